import Histogram

/// An HdrHistogram of latencies in microseconds, 1 µs to 60 s at three significant digits
/// (about 200 KB). Values above the range are recorded as 60 s and counted, so a stalled run
/// shows up as a maximum of 60,000 ms rather than disappearing.
struct LatencyRecorder: Sendable {
    static let highestMicros: UInt64 = 60_000_000
    private(set) var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: LatencyRecorder.highestMicros, numberOfSignificantValueDigits: .three)
    /// Values clamped to the highest trackable one.
    private(set) var clamped: UInt64 = 0

    var count: UInt64 { histogram.totalCount }

    mutating func record(nanoseconds: UInt64) {
        var micros = nanoseconds / 1_000
        if micros == 0 { micros = 1 }
        if micros > Self.highestMicros {
            micros = Self.highestMicros
            clamped += 1
        }
        _ = histogram.record(micros)
    }

    mutating func add(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
        clamped += other.clamped
    }

    /// The summary printed and written to JSON.
    var summary: LatencySummary {
        guard histogram.totalCount > 0 else { return LatencySummary() }
        func ms(_ micros: UInt64) -> Double { Double(micros) / 1_000 }
        return LatencySummary(
            count: Int(histogram.totalCount), p50: ms(histogram.valueAtPercentile(50)), p90: ms(histogram.valueAtPercentile(90)),
            p99: ms(histogram.valueAtPercentile(99)), p999: ms(histogram.valueAtPercentile(99.9)), max: ms(histogram.max),
            mean: histogram.mean / 1_000)
    }
}
