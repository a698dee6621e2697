/// Everything one bench connection needs to know before it exists: where to connect, as whom,
/// and what to do once welcomed. Built by the runner, handed to ``BenchConnectionHandler``.
struct ConnectionSpec: Sendable {
    /// What the connection does after the welcome.
    enum Role: Sendable {
        /// Joins `channels[0]` and counts every message delivered to it.
        case subscriber
        /// Joins each channel (to become a member) and leaves it again (so it receives nothing),
        /// then publishes when told to (``BenchCommand/startPublishing(_:)``).
        case publisher
        /// Joins its channels and stays, counting presence diffs.
        case holder
        /// Joins `channels[0]`, stays `holdNanos`, then closes.
        case churner(holdNanos: UInt64)
    }

    var host: String
    var port: Int
    var path: String
    var token: String
    var role: Role
    var channels: [String]
    /// This publisher's number, part of each `client_id`.
    var index: Int
    /// Distinguishes this run's `client_id`s from earlier runs' (the hub deduplicates on them).
    var runID: String
    var bodyBytes: Int
    /// Offer permessage-deflate in the upgrade.
    var deflate = false
    /// When the bench started opening this connection (monotonic ns), for the connect latency.
    var startedAt: UInt64
}

/// Instructions from the runner to a connection, delivered as a user inbound event so they
/// reach the handler on its own loop.
enum BenchCommand: Sendable {
    case startPublishing(PublishPlan)
    /// Send a close frame (1000), wait (bounded) for the server's, then close.
    case close
}
