/// How one publisher sends: when, how fast, how many.
struct PublishPlan: Sendable {
    /// Monotonic ns of the first send.
    var start: UInt64
    /// Monotonic ns after which nothing more is sent.
    var until: UInt64
    /// This publisher's messages per second; 0 sends as fast as the hub acknowledges, keeping
    /// `inFlight` unacknowledged.
    var ratePerSecond: Double
    /// Unacknowledged publishes allowed at once (the bound on what a publisher queues).
    var inFlight: Int
    /// Most messages this publisher sends (`Int.max`: until `until`).
    var quota: Int
}

/// The open-loop (rate) or closed-loop (in-flight window) schedule of one publisher. Pure:
/// told the time and what is outstanding, it says how many messages to send now.
struct PublishSchedule {
    let plan: PublishPlan
    private(set) var sent = 0
    /// Open loop only: messages given up because they could not be sent within
    /// ``catchUpNanos`` of their time.
    private(set) var skipped = 0

    /// How far behind the open-loop schedule may fall before messages are skipped: 100 ms.
    static let catchUpNanos: Double = 100_000_000

    init(plan: PublishPlan) {
        self.plan = plan
    }

    func isFinished(now: UInt64) -> Bool {
        sent + skipped >= plan.quota || now >= plan.until
    }

    /// Messages to send now; the caller sends them and reports each with ``noteSent()``.
    mutating func due(now: UInt64, outstanding: Int) -> Int {
        guard now >= plan.start, !isFinished(now: now) else { return 0 }
        let room = max(0, plan.inFlight - outstanding)
        let left = plan.quota - sent - skipped
        guard plan.ratePerSecond > 0 else { return min(room, left) }
        let elapsed = Double(now - plan.start)
        let target = min(Int(elapsed * plan.ratePerSecond / 1e9) + 1, plan.quota)
        var owed = target - sent - skipped
        let catchUp = max(1, Int(plan.ratePerSecond * Self.catchUpNanos / 1e9))
        if owed > catchUp {
            skipped += owed - catchUp
            owed = catchUp
        }
        return max(0, min(owed, room))
    }

    mutating func noteSent() {
        sent += 1
    }

    /// When to look again (open loop), spacing ticks by one message but no tighter than 1 ms
    /// and no looser than 100 ms. nil in closed loop: acknowledgements drive it.
    func nextTick(after now: UInt64) -> UInt64? {
        guard plan.ratePerSecond > 0 else { return nil }
        let interval = min(max(1e9 / plan.ratePerSecond, 1_000_000), 100_000_000)
        return now + UInt64(interval)
    }
}
