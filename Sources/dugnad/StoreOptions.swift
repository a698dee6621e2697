import ArgumentParser
import DugnadCore
import Foundation

/// Where the hub's durable state is: the SQLite file in `--data-dir` (the default), or a
/// PostgreSQL database (`--database`, or `DUGNAD_DATABASE_URL`) shared by several nodes.
struct StoreOptions: ParsableArguments {
    @Option(help: "Data folder of the hub (the SQLite file, unless --database is given).")
    var dataDir = "dugnad-data"

    @Option(
        help: ArgumentHelp(
            "PostgreSQL URL, postgres://USER[:PASSWORD]@HOST:PORT/DB (default: env DUGNAD_DATABASE_URL, else SQLite in --data-dir).",
            valueName: "url"))
    var database: String?

    /// The URL from the flag, then the environment; nil for SQLite.
    var databaseURL: String? { Self.databaseURL(flag: database) }

    static func databaseURL(flag: String?) -> String? {
        flag ?? ProcessInfo.processInfo.environment["DUGNAD_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Opens the store and runs pending migrations (not `prepare()`: a running hub's open
    /// sessions must stay open). Safe beside a running hub: SQLite in WAL mode takes one
    /// writer at a time and the busy timeout waits for the hub's batch; PostgreSQL is
    /// made for it.
    func openStore() throws -> any Store {
        let store = try StorageEngine.forTools(databaseURL: databaseURL, dataDirectory: dataDir)
        try store.migrate()
        return store
    }
}
