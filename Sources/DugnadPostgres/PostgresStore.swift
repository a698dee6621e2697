import DugnadCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO

/// A `Store` on PostgreSQL, so that several hub nodes can share one database.
///
/// It behaves as `SQLiteStore` does for every op and read (same results, errors, order,
/// idempotency and gapless seqs), and adds what several processes need: seqs reserved
/// under the channel's row lock, idempotency keys enforced by unique indexes, migrations
/// serialised by an advisory lock, and sessions tagged with the node that opened them
/// (`Configuration.nodeID`), so that a node starting up closes only its own leftovers and
/// those of nodes that stopped sending heartbeats.
///
/// Threads: the `Store` API is synchronous and is never called on an event loop, so each
/// method blocks its caller until PostgreSQL answers (bounded by
/// `Configuration.queryTimeoutSeconds`). The connections' I/O runs on the store's own
/// one-thread event loop group. Writes go through one connection used serially (the
/// batching writer is the only writer); reads share `Configuration.readConnections`
/// others. Both are `BlockingConnectionPool`s, whose state is behind locks, which is what
/// makes the type `Sendable`.
///
/// Connections open lazily, on first use. When the server goes away, the call that
/// meets the dead connection fails with `.unavailable` (reads try once more on a new
/// connection first), and the next call connects again.
///
/// Call `close()` when done: it closes the connections and stops the event loop group.
public final class PostgresStore: Store {
    public let configuration: Configuration
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    /// How every connection of the store connects (the event bus opens its own with it).
    let connectionConfiguration: PostgresConnection.Configuration
    /// One connection: the batching writer's transactions, migrations and session recovery.
    let writer: BlockingConnectionPool
    /// Reads and the writability probe.
    let readers: BlockingConnectionPool
    private let isClosed = NIOLockedValueBox(false)

    /// Makes a store for the database that `configuration` names; nothing connects yet.
    ///
    /// Call `prepare()` (a hub node) or `migrate()` (a tool) before anything else.
    public init(configuration: Configuration, logger: Logger = Logger(label: "dugnad.postgres")) {
        self.configuration = configuration
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

        var connection = PostgresConnection.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database, tls: .disable)
        connection.options.connectTimeout = .seconds(configuration.connectTimeoutSeconds)
        var startup = [("application_name", "dugnad \(configuration.nodeID)")]
        if let schema = configuration.schema {
            startup.append(("search_path", Self.quotedIdentifier(schema)))
        }
        connection.options.additionalStartupParameters = startup
        connectionConfiguration = connection

        let timeout = TimeAmount.seconds(configuration.queryTimeoutSeconds)
        writer = BlockingConnectionPool(
            size: 1, configuration: connection, group: group, logger: logger, queryTimeout: timeout)
        readers = BlockingConnectionPool(
            size: configuration.readConnections, configuration: connection, group: group, logger: logger,
            queryTimeout: timeout)
    }

    /// Parses `url` (see `Configuration.init(url:)`) and makes a store with the default
    /// settings.
    public convenience init(url: String, logger: Logger = Logger(label: "dugnad.postgres")) throws {
        self.init(configuration: try Configuration(url: url), logger: logger)
    }

    deinit {
        if !isClosed.withLockedValue({ $0 }) {
            // Not blocking here: deinit may run on any thread, an event loop included.
            writer.closeInBackground()
            readers.closeInBackground()
            group.shutdownGracefully { _ in }
        }
    }

    /// Closes every connection and stops the event loop group; later calls fail with
    /// `.unavailable`. Safe to call more than once. Blocks until done.
    public func close() {
        let wasClosed = isClosed.withLockedValue { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        writer.close()
        readers.close()
        try? group.syncShutdownGracefully()
    }

    public func migrate() throws {
        do {
            try writer.withConnection { db in
                try runMigrations(db)
            }
        } catch {
            throw PostgresFailure.unavailable(error, doing: "migrate the database")
        }
    }

    /// Migrates, then closes the sessions this node left open (a crash, a kill) and those
    /// of nodes silent for longer than `Configuration.nodeTimeoutMillis`, each at the last
    /// time it was known alive; registers this node as alive. Other live nodes' sessions
    /// stay open (`SQLiteStore` closes every open session: it is alone with its file).
    public func prepare() throws {
        try migrate()
        do {
            let now = WallClock.nowMillis()
            _ = try writer.withConnection { db in
                try inTransaction(db) {
                    let closed = try closeAbandonedSessions(
                        db, now: now, timeoutMillis: configuration.nodeTimeoutMillis, includeOwn: true)
                    try Self.registerNode(db, nodeID: configuration.nodeID, at: now)
                    return closed
                }
            }
        } catch {
            throw PostgresFailure.unavailable(error, doing: "prepare the database")
        }
    }

    /// A real write (an upsert of the one-row probe table), so that a server that is gone,
    /// read-only or out of disk shows up here rather than on the next publish.
    public func checkWritable() throws {
        let now = WallClock.nowMillis()
        do {
            _ = try readers.withConnection(retryOnLostConnection: true) { db in
                try db.query(
                    """
                    INSERT INTO store_probe (id, checked_at) VALUES (1, \(now))
                    ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at
                    """)
            }
        } catch {
            throw PostgresFailure.unavailable(error, doing: "write to the database")
        }
    }

    /// Runs `body` between BEGIN and COMMIT on `db`. A failure leaves the transaction
    /// open: the pool drops the connection after any error, and the server rolls back.
    func inTransaction<T>(_ db: BlockingConnection, _ body: () throws -> T) throws -> T {
        try db.query("BEGIN")
        let result = try body()
        try commit(db)
        return result
    }

    /// COMMIT answers ROLLBACK, not an error, when the transaction had failed: that is a
    /// failure too.
    func commit(_ db: BlockingConnection) throws {
        let tag = try db.query("COMMIT").metadata.command
        guard tag == "COMMIT" else {
            throw StoreError(.unavailable, "the transaction was rolled back by the server (\(tag))")
        }
    }

    /// Runs a read on one of the read connections (again on a new one if the connection
    /// was lost), turning any failure into a `StoreError`.
    func reading<T>(_ action: String, _ body: (BlockingConnection) throws -> T) throws -> T {
        do {
            return try readers.withConnection(retryOnLostConnection: true, body)
        } catch {
            throw PostgresFailure.storeError(error, doing: action)
        }
    }

    /// `name` as a double-quoted SQL identifier.
    static func quotedIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
