/// Spaces presence flushes by what they cost: a flush delivers one diff to every member of
/// every channel that changed (its audience), so during a rush of joins — everyone opening
/// the laptop at eight — a flush every 100 ms to a 10,000-member channel is 100,000
/// deliveries a second, and it took 53 % of the hub's core while 10,000 connected
/// (`docs/benchmarks.md`, "The morning rush"). The pacer lets a flush go only when the time
/// since the last one would have paid for its audience at `deliveriesPerSecond`; until
/// then the diffs keep coalescing. Small audiences still go out on every tick.
///
/// During a rush (at least `rush.openingsPerSecond` connections opened in the last
/// second) the rate is `rush.deliveriesPerSecond` instead: every delivery is a write of
/// its own (a syscall and a TCP segment), and at 20,000 a second they still took 18 % of
/// the hub's core while 10,000 connected (`docs/benchmarks.md`); each
/// arriving connection gets the channel's presence in its `join` reply anyway. The rate
/// comes back within a second of the rush's end, and the diffs that waited go out then.
struct PresencePacer: Sendable {
    /// What makes a rush, and the rate during one.
    struct Rush: Sendable, Equatable {
        /// Connections opened in one second at or above which the hub is in a rush.
        var openingsPerSecond: Int
        /// Presence deliveries a second that flushes may average during a rush.
        var deliveriesPerSecond: Int
    }

    /// Presence deliveries a second that flushes may average.
    let deliveriesPerSecond: Int
    let rush: Rush
    /// Half the flush timer's period: the timer fires a little early or late, and an
    /// audience that one tick pays for must not wait for a second tick because of it.
    let slackNanos: UInt64
    /// When the last flush went (uptime nanoseconds); 0 before the first.
    private(set) var lastFlushNanos: UInt64 = 0
    /// Whether the last full second of openings made a rush.
    private(set) var inRush = false
    /// Where the current second of openings began (uptime nanoseconds; 0 before the first
    /// call) and the count of openings then.
    private var windowStartNanos: UInt64 = 0
    private var openedAtWindowStart = 0

    init(deliveriesPerSecond: Int, tickMillis: Int64, rush: Rush? = nil) {
        self.deliveriesPerSecond = max(1, deliveriesPerSecond)
        let rush = rush ?? Rush(openingsPerSecond: .max, deliveriesPerSecond: deliveriesPerSecond)
        self.rush = Rush(openingsPerSecond: max(1, rush.openingsPerSecond), deliveriesPerSecond: max(1, rush.deliveriesPerSecond))
        self.slackNanos = UInt64(max(0, tickMillis)) * 500_000
    }

    /// Whether a flush to `audience` deliveries may go `now`; if it may, it counts as made.
    /// `opened` is the count of connections this node ever opened (it only grows).
    mutating func admit(audience: Int, opened: Int, now: UInt64) -> Bool {
        noteOpenings(opened, now: now)
        guard audience > 0 else { return false }
        let rate = inRush ? rush.deliveriesPerSecond : deliveriesPerSecond
        let owed = UInt64(audience) * 1_000_000_000 / UInt64(rate)
        guard lastFlushNanos == 0 || now &- lastFlushNanos &+ slackNanos >= owed else { return false }
        lastFlushNanos = now
        return true
    }

    /// Decides, once a second, whether the second that ended was a rush.
    private mutating func noteOpenings(_ opened: Int, now: UInt64) {
        guard windowStartNanos != 0 else {
            windowStartNanos = now
            openedAtWindowStart = opened
            return
        }
        let elapsed = now &- windowStartNanos
        guard elapsed >= 1_000_000_000 else { return }
        let perSecond = UInt64(max(0, opened - openedAtWindowStart)) * 1_000_000_000 / elapsed
        inRush = perSecond >= UInt64(rush.openingsPerSecond)
        windowStartNanos = now
        openedAtWindowStart = opened
    }
}
