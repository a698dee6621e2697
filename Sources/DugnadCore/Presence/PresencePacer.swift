/// Spaces presence flushes by what they cost: a flush delivers one diff to every member of
/// every channel that changed (its audience), so during a rush of joins — everyone opening
/// the laptop at eight — a flush every 100 ms to a 10,000-member channel is 100,000
/// deliveries a second, and it took 53 % of the hub's core while 10,000 connected
/// (`docs/benchmarks.md`, "The morning rush"). The pacer lets a flush go only when the time
/// since the last one would have paid for its audience at `deliveriesPerSecond`; until
/// then the diffs keep coalescing. Small audiences still go out on every tick.
struct PresencePacer: Sendable {
    /// Presence deliveries a second that flushes may average.
    let deliveriesPerSecond: Int
    /// Half the flush timer's period: the timer fires a little early or late, and an
    /// audience that one tick pays for must not wait for a second tick because of it.
    let slackNanos: UInt64
    /// When the last flush went (uptime nanoseconds); 0 before the first.
    private(set) var lastFlushNanos: UInt64 = 0

    init(deliveriesPerSecond: Int, tickMillis: Int64) {
        self.deliveriesPerSecond = max(1, deliveriesPerSecond)
        self.slackNanos = UInt64(max(0, tickMillis)) * 500_000
    }

    /// Whether a flush to `audience` deliveries may go `now`; if it may, it counts as made.
    mutating func admit(audience: Int, now: UInt64) -> Bool {
        guard audience > 0 else { return false }
        let owed = UInt64(audience) * 1_000_000_000 / UInt64(deliveriesPerSecond)
        guard lastFlushNanos == 0 || now &- lastFlushNanos &+ slackNanos >= owed else { return false }
        lastFlushNanos = now
        return true
    }
}
