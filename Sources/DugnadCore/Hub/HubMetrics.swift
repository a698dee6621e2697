import Metrics

/// The hub's Prometheus figures, created from the factory the server owns (not the global
/// bootstrap, so several hubs can live in one test process).
public struct HubMetrics: Sendable {
    public let connections: Meter
    public let connectionsOpened: Counter
    public let joins: Counter
    public let messagesIn: Counter
    public let messagesOut: Counter
    public let fanoutDeliveries: Counter
    public let publishDurableLatency: Metrics.Timer
    public let batchSize: Recorder
    public let batchFailures: Counter
    /// Writes the writer refused because its queue was full (the caller was told "busy",
    /// or, for bookkeeping nobody waits for, the write was dropped and logged).
    public let writesRefused: Counter
    public let rateLimited: Counter
    /// Publishes answered `rate_limited` because fan-out was behind (`fanoutMaxLagMillis`).
    public let publishesSlowed: Counter
    public let slowConsumerCloses: Counter

    public init(factory: any MetricsFactory) {
        connections = Meter(label: "dugnad_connections", dimensions: [], factory: factory)
        connectionsOpened = Counter(label: "dugnad_connections_opened_total", dimensions: [], factory: factory)
        joins = Counter(label: "dugnad_joins_total", dimensions: [], factory: factory)
        messagesIn = Counter(label: "dugnad_messages_in_total", dimensions: [], factory: factory)
        messagesOut = Counter(label: "dugnad_messages_out_total", dimensions: [], factory: factory)
        fanoutDeliveries = Counter(label: "dugnad_fanout_deliveries_total", dimensions: [], factory: factory)
        publishDurableLatency = Metrics.Timer(label: "dugnad_publish_durable_seconds", dimensions: [], factory: factory)
        // The writer's batches, whichever engine commits them (SQLite or PostgreSQL).
        batchSize = Recorder(label: "dugnad_write_batch_size", dimensions: [], aggregate: true, factory: factory)
        batchFailures = Counter(label: "dugnad_write_batch_failures_total", dimensions: [], factory: factory)
        writesRefused = Counter(label: "dugnad_writes_refused_total", dimensions: [], factory: factory)
        rateLimited = Counter(label: "dugnad_rate_limited_total", dimensions: [], factory: factory)
        publishesSlowed = Counter(label: "dugnad_publishes_slowed_total", dimensions: [], factory: factory)
        slowConsumerCloses = Counter(label: "dugnad_slow_consumer_closes_total", dimensions: [], factory: factory)
    }
}
