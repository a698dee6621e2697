import DugnadTokens
import DugnadTestSupport
import DugnadCore
import DugnadProtocol
import DugnadPostgres
import DugnadSQLite
import DugnadServer
import Foundation
import Logging

/// A real hub on 127.0.0.1 with a fresh data folder, for one test.
final class TestHub: Sendable {
    static let secret = "test-secret-0123456789abcdef0123456789abcdef"
    let app: DugnadApplication
    let dataDirectory: String
    var port: Int { app.port }

    private init(app: DugnadApplication, dataDirectory: String) {
        self.app = app
        self.dataDirectory = dataDirectory
    }

    /// A PostgreSQL URL in `DUGNAD_TEST_LIVE_POSTGRES_URL` runs every live test against
    /// PostgreSQL instead of a SQLite file (`scripts/test` does it once per run).
    static let postgresURL: String? = ProcessInfo.processInfo.environment["DUGNAD_TEST_LIVE_POSTGRES_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }
    static var onPostgres: Bool { postgresURL != nil }

    /// The storage under a test hub: SQLite in the data folder, or PostgreSQL (with the
    /// bus between nodes) when a URL is given. Built here as the CLI builds it: the server
    /// is handed a store and never knows which engine it is.
    struct Engine: Sendable {
        var databaseURL: String?
        var nodeID: String?
        var nodeTimeoutMillis: Int64 = 15_000

        /// SQLite, or PostgreSQL when `DUGNAD_TEST_LIVE_POSTGRES_URL` is set: one schema
        /// per data folder, so a fresh hub sees an empty database and a hub restarted on
        /// the same folder (restart tests) finds its data again.
        static func `default`(dataDirectory: String) -> Engine {
            guard let url = TestHub.postgresURL else { return Engine() }
            let schema =
                "live_"
                + String(
                    URL(fileURLWithPath: dataDirectory).lastPathComponent.lowercased().map {
                        $0.isLetter || $0.isNumber ? $0 : "_"
                    }
                ).suffix(50)
            return Engine(databaseURL: url + (url.contains("?") ? "&" : "?") + "schema=" + schema)
        }

        func open(dataDirectory: String, logger: Logger) throws -> (
            store: any Store, makeBus: (@Sendable (LocalFanout) -> any EventBus)?, heartbeatSeconds: Int64?
        ) {
            guard let databaseURL else {
                return (try SQLiteStore(path: dataDirectory + "/dugnad.sqlite"), nil, nil)
            }
            var configuration = try PostgresStore.Configuration(url: databaseURL)
            if let nodeID { configuration.nodeID = nodeID }
            configuration.nodeTimeoutMillis = nodeTimeoutMillis
            let store = PostgresStore(configuration: configuration, logger: logger)
            var bus = PostgresEventBus.Configuration()
            bus.nodeTimeoutMillis = nodeTimeoutMillis
            return (
                store, PostgresEventBus.factory(store: store, configuration: bus, logger: logger),
                max(1, nodeTimeoutMillis / 3_000)
            )
        }
    }

    static func makeConfiguration() -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.webRoot = TestHub.webRoot
        configuration.eventLoops = 2
        configuration.tokens = TokenVerifier.Configuration(algorithm: .hs256, secret: Array(secret.utf8))
        configuration.shutdownGraceSeconds = 1
        // The whole suite runs in parallel on two cores, twice (SQLite, then PostgreSQL), and
        // event loops there have been seen many seconds late: a request written at once must
        // not meet the header timeout (30 s was once not enough: the request got no answer).
        // HardeningTests set their own.
        configuration.headerTimeoutSeconds = 120
        // Likewise for a WebSocket's first frame: FrameFuzzTests' unauthenticated cases, sent
        // right after the handshake, were closed with 4001 (auth_timeout, 10 s by default)
        // when the suite's start kept their client from writing. AuthTests set their own.
        configuration.authTimeout = 120
        return configuration
    }

    /// Starts a hub; `configure` adjusts the configuration (limits, timers) first.
    /// `logger` replaces the default one (warnings and worse, to standard error).
    static func start(
        dataDirectory: String? = nil, engine: Engine? = nil, logger: Logger? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> TestHub {
        let directory = dataDirectory ?? Self.temporaryDirectory()
        var configuration = makeConfiguration()
        configure(&configuration)
        let logger =
            logger
            ?? {
                var logger = Logger(label: "dugnad-test")
                logger.logLevel = .warning
                return logger
            }()
        // Opening connects and migrates (PostgreSQL: seconds on a loaded machine), blocking:
        // on a thread of its own, not one of the two cooperative threads every test shares.
        let engine = engine ?? .default(dataDirectory: directory)
        let storage = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try engine.open(dataDirectory: directory, logger: logger) })
            }
        }
        if let heartbeat = storage.heartbeatSeconds {
            configuration.hub.sessionHeartbeatSeconds = min(configuration.hub.sessionHeartbeatSeconds, heartbeat)
        }
        let app = try await DugnadApplication.start(
            configuration: configuration, store: storage.store, makeBus: storage.makeBus, logger: logger)
        return TestHub(app: app, dataDirectory: directory)
    }

    static func temporaryDirectory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dugnad-test-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static var webRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("web-client/public").path
    }

    /// Stops the hub; `keepData` leaves the folder for a restart.
    func stop(keepData: Bool = false) async {
        await app.shutdown()
        if !keepData { try? FileManager.default.removeItem(atPath: dataDirectory) }
    }

    static func token(
        _ sub: String, name: String? = nil, roles: [String] = [], channels: [String] = [], ttl: Int64? = 3600
    ) async throws -> String {
        try await TokenSigner.sign(
            secret: Array(secret.utf8), sub: sub, name: name ?? sub.capitalized, roles: roles, channels: channels,
            ttlSeconds: ttl)
    }

    /// Connects and authenticates with a `?token=` and waits for the welcome.
    func connect(
        _ sub: String, name: String? = nil, roles: [String] = [], channels: [String] = [], autoPong: Bool = true,
        deflate: Bool = false
    ) async throws -> TestClient {
        let token = try await Self.token(sub, name: name, roles: roles, channels: channels)
        let client = try await TestClient(
            WebSocketClient.connect(
                host: "127.0.0.1", port: port, path: "/ws?token=\(token)", deflate: deflate, autoPong: autoPong))
        client.welcome = try await client.next(type: "welcome")
        return client
    }

    /// Waits until the hub holds exactly `count` WebSocket connections: a connection is gone
    /// from the count once the hub has finished with it (its session ended, its slots given back).
    func waitForConnections(_ count: Int, within timeout: Duration = TestClient.eventTimeout) async throws {
        let deadline = ContinuousClock.now + timeout
        while app.connectionCount != count {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("\(app.connectionCount) connections, not \(count), after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Opens a socket without authenticating.
    func rawConnect(
        path: String = "/ws", headers: [(String, String)] = [], subprotocols: [String] = [], autoPong: Bool = true
    ) async throws -> TestClient {
        try await TestClient(
            WebSocketClient.connect(
                host: "127.0.0.1", port: port, path: path, headers: headers, subprotocols: subprotocols, autoPong: autoPong))
    }
}
