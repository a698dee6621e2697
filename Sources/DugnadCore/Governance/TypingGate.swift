import NIOConcurrencyHelpers

/// At most one `typing` event per user per channel per interval reaches anyone (default
/// 2 s, the contract's §9), whatever the user sends and on however many connections: the
/// rest is dropped here, before fan-out. A client sends `typing` every few seconds while
/// someone types, so one event per interval loses nothing a reader could see.
public final class TypingGate: Sendable {
    private let intervalNanos: UInt64
    private let last = NIOLockedValueBox<[String: UInt64]>([:])

    public init(intervalMillis: Int64) {
        self.intervalNanos = UInt64(max(0, intervalMillis)) * 1_000_000
    }

    /// True when this `typing` may go out (and records it).
    public func allow(userID: String, channel: String, now: UInt64) -> Bool {
        let key = userID + "\u{1F}" + channel
        return last.withLockedValue { table in
            if let previous = table[key], now < previous + intervalNanos { return false }
            table[key] = now
            return true
        }
    }

    /// Drops what is older than the interval (called every few seconds): the table holds
    /// only the users typing right now.
    public func forgetOld(now: UInt64) {
        let interval = intervalNanos
        last.withLockedValue { table in table = table.filter { _, at in now < at + interval } }
    }

    var trackedCount: Int { last.withLockedValue { $0.count } }
}
