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
///
/// Open loop: message `k` is due at `start + k / rate`. A publisher that fell behind (a busy
/// event loop, a full in-flight window, a socket that is not writable) catches up at most
/// 100 ms worth of messages per look, and messages sent over 100 ms after their time are
/// counted as late. Nothing is skipped, so a run with a message quota sends exactly that many.
struct PublishSchedule {
    let plan: PublishPlan
    private(set) var sent = 0
    /// Open loop: messages sent more than ``lateNanos`` after their time.
    private(set) var late = 0

    /// Lateness that counts, and the most a publisher catches up at once: 100 ms.
    static let lateNanos: Double = 100_000_000

    init(plan: PublishPlan) {
        self.plan = plan
    }

    func isFinished(now: UInt64) -> Bool {
        sent >= plan.quota || now >= plan.until
    }

    /// Messages to send now; the caller sends them and reports each with ``noteSent(now:)``.
    func due(now: UInt64, outstanding: Int) -> Int {
        guard now >= plan.start, !isFinished(now: now) else { return 0 }
        let room = max(0, plan.inFlight - outstanding)
        let left = plan.quota - sent
        guard plan.ratePerSecond > 0 else { return min(room, left) }
        let elapsed = Double(now - plan.start)
        let owed = min(Int(elapsed * plan.ratePerSecond / 1e9) + 1, plan.quota) - sent
        let catchUp = max(1, Int(plan.ratePerSecond * Self.lateNanos / 1e9))
        return max(0, min(owed, catchUp, room))
    }

    mutating func noteSent(now: UInt64) {
        if plan.ratePerSecond > 0 {
            let dueAt = Double(plan.start) + Double(sent) * 1e9 / plan.ratePerSecond
            if Double(now) - dueAt > Self.lateNanos { late += 1 }
        }
        sent += 1
    }

    /// When to look again (open loop), spacing looks by one message but no tighter than 1 ms
    /// and no looser than 100 ms. nil in closed loop: acknowledgements drive it.
    func nextTick(after now: UInt64) -> UInt64? {
        guard plan.ratePerSecond > 0 else { return nil }
        let interval = min(max(1e9 / plan.ratePerSecond, 1_000_000), 100_000_000)
        return now + UInt64(interval)
    }
}
