import DugnadTestSupport
import DugnadCore
import DugnadProtocol
import DugnadServer
import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

@testable import DugnadPostgres

/// Several real hubs sharing one PostgreSQL schema, as nodes behind a load balancer:
/// in this process (`startNode`) or as a child process of the built `dugnad` binary
/// (`spawnNode`, which a test can kill with SIGKILL). Needs `DUGNAD_TEST_POSTGRES_URL`;
/// each cluster gets a fresh schema, dropped by `stop()`.
final class TestCluster: Sendable {
    static let environmentVariable = "DUGNAD_TEST_POSTGRES_URL"
    static let baseURL: String? = ProcessInfo.processInfo.environment[environmentVariable].flatMap {
        $0.isEmpty ? nil : $0
    }
    static var isConfigured: Bool { baseURL != nil }

    /// The cluster's database URL, schema included.
    let url: String
    let schema: String
    /// Node timeout of every node: short, so that death is noticed within a test.
    let nodeTimeoutMillis: Int64
    private let nodes = NIOLockedValueBox<[TestHub]>([])
    private let children = NIOLockedValueBox<[ChildNode]>([])

    init(nodeTimeoutMillis: Int64 = 3_000) throws {
        guard let base = Self.baseURL else { throw TestFailure("\(Self.environmentVariable) is not set") }
        schema = "c_" + Identifiers.random(count: 12).lowercased()
        url = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
        self.nodeTimeoutMillis = nodeTimeoutMillis
    }

    /// A node in this process, on a free loopback port.
    func startNode(_ nodeID: String, configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestHub {
        let url = self.url
        let timeout = nodeTimeoutMillis
        let hub = try await TestHub.start(
            engine: TestHub.Engine(databaseURL: url, nodeID: nodeID, nodeTimeoutMillis: timeout), configure: configure)
        nodes.withLockedValue { $0.append(hub) }
        return hub
    }

    /// The built `dugnad` binary (`swift build` puts it next to the test bundle).
    static var binary: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent(".build/debug/dugnad").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// A node as a child process of the `dugnad` binary; returns once it listens.
    func spawnNode(_ nodeID: String) async throws -> ChildNode {
        guard let binary = Self.binary else { throw TestFailure("no .build/debug/dugnad: run swift build first") }
        let child = try await ChildNode.start(
            binary: binary,
            arguments: [
                "serve", "--database", url, "--port", "0", "--node-id", nodeID,
                "--node-timeout", String(max(1, nodeTimeoutMillis / 1_000)), "--jwt-secret=\(TestHub.secret)",
                "--data-dir", TestHub.temporaryDirectory(), "--web-root", TestHub.webRoot, "--log-level", "warning",
                "--event-loops", "1",
            ])
        children.withLockedValue { $0.append(child) }
        return child
    }

    /// A store on the cluster's schema, for looking at what the nodes wrote.
    func inspect<T>(_ body: (PostgresStore) throws -> T) throws -> T {
        var logger = Logger(label: "dugnad-cluster-test")
        logger.logLevel = .critical
        let store = PostgresStore(configuration: try PostgresStore.Configuration(url: url), logger: logger)
        defer { store.close() }
        return try body(store)
    }

    /// Sessions of `node` the database still has open.
    func openSessions(of node: String, in store: PostgresStore) throws -> Int64 {
        try store.readers.withConnection { db in
            try db.value(
                "SELECT count(*) FROM sessions WHERE node_id = \(node) AND disconnected_at IS NULL", as: Int64.self)
        } ?? 0
    }

    /// Stops one node of this process gracefully (as SIGTERM would).
    func stop(_ hub: TestHub) async {
        nodes.withLockedValue { $0.removeAll { $0 === hub } }
        await hub.stop()
    }

    /// Stops every node still running, kills every child, drops the schema.
    func stop() async {
        for hub in nodes.withLockedValue({ $0 }) { await hub.stop() }
        for child in children.withLockedValue({ $0 }) { await child.kill() }
        let schema = self.schema
        try? inspect { store in
            _ = try store.readers.withConnection { db in
                try db.query(
                    PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(PostgresStore.quotedIdentifier(schema)) CASCADE"))
            }
        }
    }
}

/// A `dugnad serve` child process: its port (read from the line it prints when
/// listening) and a way to kill it without warning.
final class ChildNode: Sendable {
    let process: ChildProcess
    let port: Int

    private init(process: ChildProcess, port: Int) {
        self.process = process
        self.port = port
    }

    /// Its standard output goes to a file (nothing need be read while the test waits),
    /// its standard error to the test's own. Waits with `Task.sleep`, never holding a
    /// cooperative thread.
    static func start(binary: String, arguments: [String], timeout: Duration = .seconds(60)) async throws -> ChildNode {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("node-output-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let process = try ChildProcess(executable: binary, arguments: arguments, outputPath: outputPath, errorPath: nil)
        let deadline = ContinuousClock.now + timeout
        while true {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:"),
                let port = Int(text[range.upperBound...].prefix { $0.isNumber })
            {
                return ChildNode(process: process, port: port)
            }
            guard process.isRunning, ContinuousClock.now < deadline else {
                process.send(SIGKILL)
                await process.exit()
                throw TestFailure("dugnad serve did not start: \(text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// SIGKILL: the node gets no chance to say goodbye or close anything.
    func kill() async {
        process.send(SIGKILL)
        await process.exit()
    }
}

extension TestCluster {
    /// Connects and authenticates to a node on `port` (in this process or a child) and
    /// waits for the welcome.
    static func connect(port: Int, _ sub: String, name: String? = nil, roles: [String] = []) async throws -> TestClient {
        let token = try await TestHub.token(sub, name: name, roles: roles)
        let client = try await TestClient(WebSocketClient.connect(host: "127.0.0.1", port: port, path: "/ws?token=\(token)"))
        client.welcome = try await client.next(type: "welcome")
        return client
    }
}

extension TestClient {
    /// The next `count` message events of `channel`, in the order they arrived.
    func messages(_ count: Int, in channel: String, timeout: Duration = .seconds(60)) async throws -> [JSONValue] {
        var found: [JSONValue] = []
        let deadline = ContinuousClock.now + timeout
        while found.count < count {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else {
                throw TestFailure("got \(found.count) of \(count) messages: \(found.seqs)")
            }
            found.append(try await next(timeout: remaining) { $0["type"] == "message" && $0["channel"] == .string(channel) })
        }
        return found
    }

    /// Asks for `channel`'s presence until `predicate` holds (other nodes' presence
    /// arrives a moment after the fact), and returns the last reply.
    func presence(
        of channel: String, within timeout: Duration = TestClient.eventTimeout, until predicate: (JSONValue) -> Bool
    )
        async throws -> JSONValue
    {
        let deadline = ContinuousClock.now + timeout
        while true {
            let reply = try await ok("presence", [("channel", .string(channel))])
            if predicate(reply) { return reply }
            guard ContinuousClock.now < deadline else { throw TestFailure("presence never matched: \(reply.jsonString())") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

extension JSONValue {
    /// The ids of a presence list.
    var presenceIDs: [String] {
        (self["presence"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
    }
}
