/// A token bucket: `rate` tokens a second up to `burst`. Pure and clock-injected so it is
/// tested without sleeping.
public struct TokenBucket: Sendable {
    public let rate: Double
    public let burst: Double
    private var tokens: Double
    private var lastNanos: UInt64

    public init(rate: Double, burst: Double, now: UInt64) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.lastNanos = now
    }

    /// Takes one token. Returns nil when allowed, or the milliseconds until one is available.
    public mutating func take(now: UInt64) -> Int? {
        if now > lastNanos {
            tokens = min(burst, tokens + Double(now - lastNanos) / 1e9 * rate)
            lastNanos = now
        }
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        // A rate of 0 (or less) never refills: answer an hour rather than dividing by zero.
        guard rate > 0 else { return 3_600_000 }
        return max(1, Int(min(3_600_000, ((1 - tokens) / rate * 1000).rounded(.up))))
    }

    /// Whether the bucket would be full at `now`: then it is no different from a new one,
    /// and a table of buckets may forget it.
    public func isFull(now: UInt64) -> Bool {
        let refilled = now > lastNanos ? Double(now - lastNanos) / 1e9 * rate : 0
        return tokens + refilled >= burst
    }
}
