/// Percentiles of one latency distribution, in milliseconds (HdrHistogram, three significant
/// digits: each value is within 0.1 % of the true one).
public struct LatencySummary: Sendable, Equatable {
    /// Samples recorded; 0 means the other fields are meaningless zeros.
    public var count = 0
    public var p50 = 0.0
    public var p90 = 0.0
    public var p99 = 0.0
    public var p999 = 0.0
    public var max = 0.0
    public var mean = 0.0

    public init(
        count: Int = 0, p50: Double = 0, p90: Double = 0, p99: Double = 0, p999: Double = 0, max: Double = 0, mean: Double = 0
    ) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
        self.mean = mean
    }
}
