import NIOCore

/// The counters of every connection on one event loop, and the measurement window they are
/// judged against. Confined to its loop (the runner holds it in a `NIOLoopBound` and reads it
/// by submitting to the loop), so the hot path records without locks or atomics.
final class LoopStats {
    var counters = BenchCounters()
    var latencies = BenchLatencies()
    /// Delivery latency since the last progress line.
    var recentDelivery = LatencyRecorder()
    /// Monotonic nanoseconds (`NIODeadline.now().uptimeNanoseconds`) between which publish
    /// times count as measured; before it is warm-up. The whole run counts until set.
    var window: MeasurementWindow = .always

    /// The recent delivery latencies, restarting them for the next interval (a fresh
    /// histogram is a zeroed allocation, cheaper than clearing the old one).
    func takeRecentDelivery() -> LatencyRecorder {
        let recent = recentDelivery
        recentDelivery = LatencyRecorder()
        return recent
    }
}

@available(*, unavailable)
extension LoopStats: Sendable {}

/// The measured part of a run, in monotonic nanoseconds: publish times in `from..<until`.
struct MeasurementWindow: Sendable {
    var from: UInt64
    var until: UInt64

    static let always = MeasurementWindow(from: 0, until: .max)

    func contains(_ time: UInt64) -> Bool { time >= from && time < until }
}
