import DugnadCore
import DugnadPostgres
import DugnadSQLite
import Foundation
import Logging

/// The storage engine, chosen and built here and nowhere else: the CLI is the composition
/// root, and the server and the hub only ever see a `Store` (and, for several nodes, a bus
/// factory).
///
/// A PostgreSQL URL (`--database`, or `DUGNAD_DATABASE_URL`) selects the shared engine;
/// without one, the embedded SQLite file in the data folder.
struct StorageEngine: CustomStringConvertible {
    let store: any Store
    /// The engine and where its data is, without credentials (for logs).
    let description: String
    /// Wraps the hub's local fan-out in a bus between nodes; nil for a node alone (SQLite).
    let makeBus: (@Sendable (LocalFanout) -> any EventBus)?
    /// A session heartbeat short enough that no other node takes this one for dead: a
    /// third of the node timeout. Nil for SQLite, which keeps the hub's default.
    let sessionHeartbeatSeconds: Int64?

    /// Where this node stands among several on one database (PostgreSQL only).
    struct Node {
        /// Default nil: a random `n_…` id per start.
        var id: String?
        var timeoutMillis: Int64 = 15_000
    }

    /// The engine for a hub node: the store and, on PostgreSQL, the bus between nodes.
    static func forServing(databaseURL: String?, dataDirectory: String, node: Node, logger: Logger) throws
        -> StorageEngine
    {
        guard let databaseURL else {
            return StorageEngine(
                store: try openSQLite(dataDirectory), description: "SQLite in \(dataDirectory)", makeBus: nil,
                sessionHeartbeatSeconds: nil)
        }
        var postgres = try PostgresStore.Configuration(url: databaseURL)
        if let id = node.id { postgres.nodeID = id }
        postgres.nodeTimeoutMillis = node.timeoutMillis
        let store = PostgresStore(configuration: postgres, logger: logger)
        var bus = PostgresEventBus.Configuration()
        bus.nodeTimeoutMillis = node.timeoutMillis
        return StorageEngine(
            store: store, description: postgres.description,
            makeBus: PostgresEventBus.factory(store: store, configuration: bus, logger: logger),
            sessionHeartbeatSeconds: max(1, node.timeoutMillis / 3_000))
    }

    /// The store alone, for tools that run beside a hub (`channels`, `keys`, `users`).
    static func forTools(databaseURL: String?, dataDirectory: String) throws -> any Store {
        guard let databaseURL else { return try openSQLite(dataDirectory) }
        return try PostgresStore(url: databaseURL)
    }

    /// The SQLite file in `dataDirectory`, made if needed.
    private static func openSQLite(_ dataDirectory: String) throws -> any Store {
        try DataFolder.secure(dataDirectory)
        return try SQLiteStore(path: dataDirectory + "/dugnad.sqlite")
    }
}
