/// The load patterns `dugnad bench` knows (see ``BenchConfiguration`` for their defaults).
public enum BenchScenario: String, CaseIterable, Sendable {
    /// N subscribers in one channel, P publishers at a total rate: delivery latency and loss.
    case fanout
    /// N subscribers spread over C channels, P publishers going round the channels.
    case groups
    /// Many publishers, few subscribers: durable publishes per second and publish-to-ack latency
    /// (the hub's SQLite group commit path).
    case publish
    /// N joined connections held open, to read the hub's memory per connection.
    case idle
    /// Connections that connect, join, stay briefly and leave, at a rate, while watchers in the
    /// channel receive the presence diffs: the cost of join, leave and presence.
    case churn
}
