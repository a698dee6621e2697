import NIOCore

/// Everything a run needs. `dugnad bench` and the tests build the same struct and call
/// ``BenchRunner/run(progress:)``.
///
/// Defaults depend on the scenario (``init(scenario:)``); each is small enough to run on a
/// laptop against a hub with lifted rate limits in about ten seconds:
///
/// | | fanout | groups | publish | idle | churn |
/// |---|---|---|---|---|---|
/// | subscribers | 100 | 1,000 | 2 | – | 10 (watchers) |
/// | publishers | 2 | 10 | 50 | – | – |
/// | rate (msg/s, total) | 1,000 | 1,000 | 0 (as fast as acked) | – | – |
/// | channels | 1 | 10 | 1 | 1 | 1 |
/// | connections | – | – | – | 1,000 | – |
/// | churn rate (connections/s) | – | – | – | – | 50 |
/// | warm-up | 2 s | 2 s | 2 s | – | – |
public struct BenchConfiguration: Sendable {
    public var scenario: BenchScenario
    /// Hub address. Default 127.0.0.1:8080, path `/ws` (the hub's defaults).
    public var host = "127.0.0.1"
    public var port = 8080
    public var path = "/ws"
    /// Ports of further nodes of the same hub (same host and path), for several nodes
    /// sharing one database: connection `i` goes to the `i % (1 + count)`th of `port` and
    /// these. Empty by default: one node.
    public var otherNodePorts: [Int] = []
    /// HS256 secret the hub verifies tokens with; the bench mints one token per user.
    public var secret: [UInt8] = []
    /// Seconds of measured traffic (fanout, groups, publish, churn) or of holding (idle). Default 10.
    public var duration: Double = 10
    /// Seconds of traffic before measuring, so that connections and caches are warm.
    public var warmup: Double
    public var subscribers: Int
    public var publishers: Int
    /// Messages per second over all publishers; 0 publishes as fast as the hub acknowledges,
    /// each publisher keeping ``inFlight`` publishes unacknowledged.
    public var rate: Double
    /// Stop after this many messages in all (they are split evenly over the publishers), or
    /// at the end of the duration, whichever comes first. nil: the duration decides.
    public var messages: Int?
    /// Size of each message body. Default 100 bytes, a chat line.
    public var bodyBytes = 100
    /// Offer permessage-deflate, and inflate what the hub sends compressed. Default off: the
    /// bench measures the plain protocol unless asked.
    public var deflate = false
    public var channels: Int
    /// Idle: connections to hold.
    public var connections: Int
    /// Idle: channels each connection joins, from its own round the channels (connection
    /// `i` joins channels `i`, `i+1`, … modulo ``channels``). Default 1; the morning rush
    /// is `--channels 2 --joins 2` (everyone in the same two channels) or `--channels 100
    /// --joins 2`.
    public var joinsPerConnection = 1
    /// Churn: connections opened per second.
    public var churnRate: Double
    /// Churn: seconds each connection stays before it leaves. Default 1.
    public var hold: Double = 1
    /// Unacknowledged publishes per publisher. nil: 1 for `publish` (each publisher waits for its
    /// ack, as a chat client does), 64 when publishing as fast as acknowledged, else 10,000
    /// (an open-loop rate should not be held back by the window).
    public var inFlight: Int?
    /// Client event-loop threads. Default: the CPUs this process may use (`taskset` is respected).
    public var threads = ProcessProbe.allowedCPUs()
    /// The hub's process id: its RSS (`/proc/PID/status` VmRSS) and CPU time are then reported.
    public var serverPID: Int32?
    /// Free text recorded in the JSON, for the hub's settings (e.g. "--publish-rate 1000000 --event-loops 1").
    public var note: String?
    /// Channel and user names start with this. Default `bench`. Memberships are durable, so runs
    /// reuse the same names rather than filling the database; two benches at once need different prefixes.
    public var namePrefix = "bench"
    /// Handshakes in progress at once while opening connections. Default 256, below the hub's
    /// listen backlog of 4,096.
    public var connectConcurrency = 256
    /// Local 127.0.0.x addresses to spread connections over; 0 decides from the ephemeral port
    /// range (one address carries about 21,000 connections).
    public var sourceAddresses = 0
    /// Seconds one connection may take from TCP connect to its last setup reply (welcome, joins).
    /// Default 60: opening tens of thousands at once queues them at the hub.
    public var setupTimeout: Double = 60
    /// Seconds to wait for outstanding acks and deliveries after publishing stops, counted from
    /// the last progress made. Default 5. What has not arrived by then is lost.
    public var drainTimeout: Double = 5

    /// A configuration with the scenario's defaults (see the table above).
    public init(scenario: BenchScenario) {
        self.scenario = scenario
        warmup = 2
        subscribers = 0
        publishers = 0
        rate = 0
        channels = 1
        connections = 0
        churnRate = 0
        switch scenario {
        case .fanout:
            subscribers = 100
            publishers = 2
            rate = 1_000
        case .groups:
            subscribers = 1_000
            publishers = 10
            rate = 1_000
            channels = 10
        case .publish:
            subscribers = 2
            publishers = 50
        case .idle:
            warmup = 0
            connections = 1_000
        case .churn:
            warmup = 0
            subscribers = 10
            churnRate = 50
        }
    }

    /// Sets host, port and path from a `ws://host:port/path` URL (`wss` is not supported: the
    /// bench measures the hub, not TLS).
    public mutating func setURL(_ url: String) throws(BenchError) {
        guard url.hasPrefix("ws://") else { throw .configuration("--url must start with ws:// (got '\(url)')") }
        let rest = url.dropFirst(5)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let path = rest.dropFirst(authority.count)
        var hostPart = Substring(authority)
        var port = 80
        if hostPart.hasPrefix("[") {
            guard let end = hostPart.firstIndex(of: "]") else { throw .configuration("bad IPv6 address in '\(url)'") }
            let after = hostPart[hostPart.index(after: end)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()) else { throw .configuration("bad port in '\(url)'") }
                port = value
            }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<end]
        } else if let colon = hostPart.lastIndex(of: ":") {
            guard let value = Int(hostPart[hostPart.index(after: colon)...]) else {
                throw .configuration("bad port in '\(url)'")
            }
            port = value
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty, (1...65_535).contains(port) else { throw .configuration("bad host or port in '\(url)'") }
        host = String(hostPart)
        self.port = port
        self.path = path.isEmpty ? "/" : String(path)
    }

    /// The `ws://` URL of the hub (its first node).
    public var url: String { url(port: port) }

    /// Every node's `ws://` URL, the first node's first.
    public var nodeURLs: [String] { nodePorts.map(url(port:)) }

    /// The ports of every node: `port`, then `otherNodePorts`.
    var nodePorts: [Int] { [port] + otherNodePorts }

    private func url(port: Int) -> String {
        "ws://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)"
    }

    /// Adds a node of the same hub from its `ws://` URL, which must differ from the first
    /// node's by its port only.
    public mutating func addNodeURL(_ url: String) throws(BenchError) {
        var other = self
        try other.setURL(url)
        guard other.host == host, other.path == path else {
            throw .configuration("--node-url must have the host and path of --url (got '\(url)')")
        }
        otherNodePorts.append(other.port)
    }

    /// Connections open at the peak (the file limit and source addresses are sized for it).
    var peakConnections: Int {
        switch scenario {
        case .fanout, .groups, .publish: subscribers + publishers
        case .idle: connections
        case .churn: subscribers + Int((churnRate * (hold + 2)).rounded(.up)) + 16
        }
    }

    /// Publishes each publisher may have unacknowledged.
    var effectiveInFlight: Int {
        if let inFlight { return max(1, inFlight) }
        if scenario == .publish { return 1 }
        return rate > 0 ? 10_000 : 64
    }

    func validate() throws(BenchError) {
        guard secret.count >= 32 else { throw .configuration("the JWT secret must be at least 32 bytes") }
        guard duration > 0, warmup >= 0, drainTimeout > 0, setupTimeout > 0 else {
            throw .configuration("--duration, --drain-timeout and --setup-timeout must be positive, --warmup not negative")
        }
        guard threads >= 1, connectConcurrency >= 1, bodyBytes >= 0, bodyBytes <= 16_384 else {
            throw .configuration("--threads and --connect-concurrency must be at least 1; --body-bytes 0 to 16384")
        }
        guard rate >= 0, channels >= 1, messages.map({ $0 >= 1 }) ?? true else {
            throw .configuration("--rate must not be negative, --channels and --messages at least 1")
        }
        let validPrefix = namePrefix.utf8.count <= 40 && namePrefix.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" }
        guard validPrefix, let first = namePrefix.first, first.isLowercase || first.isNumber else {
            throw .configuration("--name-prefix must be a short lowercase channel-name prefix like 'bench'")
        }
        switch scenario {
        case .fanout, .groups, .publish:
            guard subscribers >= 0, publishers >= 1 else { throw .configuration("--publishers must be at least 1") }
            if scenario == .fanout, channels != 1 {
                throw .configuration("fanout uses one channel; use the groups scenario for --channels")
            }
            if scenario == .groups, subscribers < channels {
                throw .configuration("groups needs at least one subscriber per channel (--subscribers ≥ --channels)")
            }
        case .idle:
            guard connections >= 1 else { throw .configuration("--connections must be at least 1") }
            guard joinsPerConnection >= 1, joinsPerConnection <= channels else {
                throw .configuration("--joins must be at least 1 and at most --channels")
            }
        case .churn:
            guard churnRate > 0, hold >= 0, subscribers >= 0 else {
                throw .configuration("--churn-rate must be positive and --hold not negative")
            }
        }
    }
}
