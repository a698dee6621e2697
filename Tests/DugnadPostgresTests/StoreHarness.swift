import DugnadProtocol
import Foundation
import GRDB
import NIOConcurrencyHelpers
import PostgresNIO
import Testing

@testable import DugnadCore
@testable import DugnadSQLite
@testable import DugnadPostgres

/// A fresh store under test, with the means to look under it: SQL on its tables (written
/// so that SQLite and PostgreSQL both run it: casts to TEXT or BIGINT, no booleans), and a
/// restart (a new store on the same data, as the same node, not yet prepared).
///
/// The same behaviour checks (`StoreBehaviour`) run through this against `SQLiteStore`,
/// the reference, and `PostgresStore`: an expectation that holds for one must hold for
/// the other.
protocol StoreHarness: Sendable {
    var store: any Store { get }
    /// The first column of the first row as an integer; nil for no row or NULL.
    func integer(_ sql: String) throws -> Int64?
    /// The first column of every row, as text ("nil" for NULL).
    func texts(_ sql: String) throws -> [String]
    /// A new store on the same data, as the same node; `prepare()` is the caller's.
    func restarted() throws -> any Store
    /// Runs one statement that changes data: what another writer (an edit, a deletion)
    /// would do to the tables, beside the store.
    func execute(_ sql: String) throws
}

extension StoreHarness {
    /// The first column of the first row as an integer, 0 for no row or NULL.
    func count(_ sql: String) throws -> Int64 {
        try integer(sql) ?? 0
    }
}

// MARK: - SQLite

/// `SQLiteStore` on a temporary file, removed afterwards.
final class SQLiteHarness: StoreHarness {
    let directory: URL
    let path: String
    let sqlite: SQLiteStore
    var store: any Store { sqlite }

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("dugnad-parity-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("hub.sqlite").path
        sqlite = try SQLiteStore(path: path)
        try sqlite.prepare()
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func integer(_ sql: String) throws -> Int64? {
        try sqlite.pool.read { db in try Int64.fetchOne(db, sql: sql) }
    }

    func texts(_ sql: String) throws -> [String] {
        try sqlite.pool.read { db in try String?.fetchAll(db, sql: sql).map { $0 ?? "nil" } }
    }

    func restarted() throws -> any Store {
        try SQLiteStore(path: path)
    }

    func execute(_ sql: String) throws {
        try sqlite.pool.write { db in try db.execute(sql: sql) }
    }

    static func run(_ body: (SQLiteHarness) throws -> Void) throws {
        try body(SQLiteHarness())
    }
}

// MARK: - PostgreSQL

/// `PostgresStore` in a schema of its own in the test database, dropped afterwards.
final class PostgresHarness: StoreHarness {
    let schema: String
    let postgres: PostgresStore
    var store: any Store { postgres }
    private let opened = NIOLockedValueBox<[PostgresStore]>([])

    /// A store in a new schema; with `prepare` false, the schema does not exist yet.
    init(nodeID: String = "n_test", prepare: Bool = true) throws {
        schema = PostgresTestDatabase.freshSchemaName()
        postgres = try PostgresTestDatabase.makeStore(schema: schema, nodeID: nodeID)
        if prepare {
            try postgres.prepare()
        }
    }

    deinit {
        for store in opened.withLockedValue({ $0 }) {
            store.close()
        }
        PostgresTestDatabase.dropSchema(schema, using: postgres)
        postgres.close()
    }

    func integer(_ sql: String) throws -> Int64? {
        try postgres.readers.withConnection { db in
            try db.value(PostgresQuery(unsafeSQL: sql), as: Int64.self)
        }
    }

    func texts(_ sql: String) throws -> [String] {
        try postgres.readers.withConnection { db in
            try db.column(PostgresQuery(unsafeSQL: sql), as: String?.self).map { $0 ?? "nil" }
        }
    }

    /// Another store on the same schema; `nodeID` defaults to this one's (a restart).
    func another(nodeID: String? = nil) throws -> PostgresStore {
        let store = try PostgresTestDatabase.makeStore(schema: schema, nodeID: nodeID ?? postgres.configuration.nodeID)
        opened.withLockedValue { $0.append(store) }
        return store
    }

    func restarted() throws -> any Store {
        try another()
    }

    func execute(_ sql: String) throws {
        try postgres.readers.withConnection { db in _ = try db.query(PostgresQuery(unsafeSQL: sql)) }
    }

    static func run(_ body: (PostgresHarness) throws -> Void) throws {
        try body(PostgresHarness())
    }
}
