/// Where a run is, for the progress line (once a second) and for tests that act at a phase
/// (the idle test counts the hub's connections while ``BenchPhase/holding``).
public enum BenchPhase: String, Sendable {
    case connecting
    case warmup
    case measuring
    /// Publishing has stopped; waiting for the last acks and deliveries.
    case draining
    /// Idle: every connection is open and joined.
    case holding
    /// Churn: connections come and go.
    case churning
    case closing
}

/// One progress report. Rates are over the last interval.
public struct BenchProgress: Sendable {
    public var scenario: BenchScenario
    public var phase: BenchPhase
    /// Seconds since the run started.
    public var elapsed: Double
    public var connectionsReady: Int
    public var connectionsWanted: Int
    public var sent: Int
    public var sentPerSecond: Double
    public var acked: Int
    public var delivered: Int
    public var deliveredPerSecond: Double
    /// Delivery latency p99 over the last interval, in ms (0 when nothing was delivered).
    public var recentP99: Double
    public var unexpectedCloses: Int
    /// This process's CPU over the last interval, in percent of one core.
    public var clientCPUPercent: Double

    /// The progress line, without the leading `\r`.
    public var line: String {
        var parts = [
            "\(scenario.rawValue) \(phase.rawValue) \(Format.seconds(elapsed))",
            "conn \(Format.count(connectionsReady))/\(Format.count(connectionsWanted))",
        ]
        if sent > 0 || scenario == .fanout || scenario == .groups || scenario == .publish {
            parts.append("sent \(Format.count(sent)) (\(Format.count(Int(sentPerSecond)))/s)")
            parts.append("acked \(Format.count(acked))")
            parts.append("delivered \(Format.count(delivered)) (\(Format.count(Int(deliveredPerSecond)))/s)")
            parts.append("p99 \(Format.millis(recentP99)) ms")
        }
        if unexpectedCloses > 0 { parts.append("closed by hub \(Format.count(unexpectedCloses))") }
        parts.append("cpu \(Int(clientCPUPercent.rounded()))%")
        return parts.joined(separator: "  ")
    }
}
