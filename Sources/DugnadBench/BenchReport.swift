import DugnadProtocol

/// The outcome of a run: counts, rates, latencies and resource use. ``summary`` is the
/// human table, ``jsonString()`` the one JSON object that `--json` prints (the shape
/// docs/benchmarks.md records and runs are compared by).
///
/// Counting is exact, per message and per subscriber: `deliveriesExpected` is, for every
/// channel, the messages the hub acknowledged times the subscribers in it; `deliveries`
/// counts distinct (subscriber, seq) pairs received; `lost` is the difference.
public struct BenchReport: Sendable {
    public var configuration: BenchConfiguration
    /// The hub's version from its welcome.
    public var serverVersion: String?

    /// Connections opened and set up at the start (idle: held; churn: the watchers).
    public var connections = 0
    /// Seconds it took to open and set them up.
    public var setupSeconds = 0.0

    public var messagesSent = 0
    /// Publishes the hub acknowledged (`ok: true`, sent once durable).
    public var messagesAcked = 0
    /// Publishes the hub refused, by error code in ``rejectedCodes``.
    public var publishRejected = 0
    public var rejectedCodes: [String: Int] = [:]
    /// Publishes with no reply at the end (after the drain timeout).
    public var unanswered = 0
    /// Open loop: messages sent over 100 ms after their time in the schedule (the client, the
    /// socket or the in-flight window held them back; the rate reached is then below the one asked).
    public var lateSends = 0

    public var deliveriesExpected = 0
    /// Distinct messages received, summed over subscribers.
    public var deliveries = 0
    public var lost = 0
    public var duplicates = 0

    /// Connections the hub closed (or that dropped) while the bench still wanted them.
    public var unexpectedCloses = 0
    /// Close codes the hub sent, by code (4008 slow consumer, 4029 rate limit, …).
    public var closeCodes: [Int: Int] = [:]
    public var presenceDiffs = 0

    public var churnStarted = 0
    public var churnCompleted = 0
    public var churnFailed = 0
    /// Churn connections not started because too many were still in progress.
    public var churnSkipped = 0

    /// Length of the measured part, in seconds; the rates are over it.
    public var windowSeconds = 0.0
    public var sentPerSecond = 0.0
    public var ackedPerSecond = 0.0
    public var deliveriesPerSecond = 0.0
    /// Connections set up per second at the start (fanout, groups, publish, idle), or churn
    /// connections started per second.
    public var connectionsPerSecond = 0.0
    public var presenceDiffsPerSecond = 0.0

    public var deliveryLatency = LatencySummary()
    public var ackLatency = LatencySummary()
    public var connectLatency = LatencySummary()
    public var joinLatency = LatencySummary()

    /// This process's CPU over the measured part (idle: setup and hold).
    public var clientCPU = CPUUsage(user: 0, system: 0, wall: 0)
    /// Client threads (event loops).
    public var clientThreads = 1
    public var server: ServerUsage?
    /// Things a reader should know: the first failure of a kind, hints about limits hit.
    public var notes: [String] = []

    public init(configuration: BenchConfiguration) {
        self.configuration = configuration
        clientThreads = configuration.threads
    }

    /// True when every expected delivery arrived exactly once and every publish was acknowledged.
    public var isClean: Bool {
        lost == 0 && duplicates == 0 && publishRejected == 0 && unanswered == 0 && unexpectedCloses == 0 && churnFailed == 0
    }

    /// Lost deliveries in percent of the expected ones.
    public var lossPercent: Double {
        deliveriesExpected > 0 ? Double(lost) / Double(deliveriesExpected) * 100 : 0
    }

    /// True when the client used nearly all the CPU it had, so the figures show the client's
    /// limit rather than the hub's.
    public var clientWasBusy: Bool {
        clientCPU.percentOfOneCore >= 90 * Double(min(clientThreads, ProcessProbe.allowedCPUs()))
    }
}
