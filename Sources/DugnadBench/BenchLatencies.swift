/// The latency histograms of one event loop, merged over loops at the end of a run
/// (each loop records into its own, so the hot path takes no lock).
struct BenchLatencies: Sendable {
    /// Publish (the publisher's clock reading in `meta.t`) to delivery at each subscriber.
    var delivery = LatencyRecorder()
    /// Publish to the hub's reply, which it sends once the message is durable.
    var ack = LatencyRecorder()
    /// Start of the TCP connect to the welcome frame (handshake and token check included).
    var connect = LatencyRecorder()
    /// `join` to its reply.
    var join = LatencyRecorder()

    mutating func merge(_ other: BenchLatencies) {
        delivery.add(other.delivery)
        ack.add(other.ack)
        connect.add(other.connect)
        join.add(other.join)
    }
}
