import DugnadCore
import Foundation
import GRDB
import NIOConcurrencyHelpers

/// The embedded `Store`: one SQLite file in WAL mode, opened once for the life of the
/// process through a GRDB `DatabasePool` (one writer connection, several readers).
///
/// The pool is the only state, so the type is `Sendable` without locks of its own: GRDB
/// serialises writes on the writer connection and lets reads run concurrently on readers.
/// Every method blocks on I/O; call them from the batching writer's thread or a thread
/// pool, never from an event loop.
public final class SQLiteStore: Store {
    /// How long a connection waits for a lock held by another process (say, the
    /// `dugnad channels` CLI on the same file) before failing with `SQLITE_BUSY`.
    /// Inside this process GRDB already serialises writers, so this only matters across
    /// processes.
    static let busyTimeout: TimeInterval = 5

    /// Internal so that tests can inspect tables the `Store` protocol does not expose
    /// (sessions) and provoke storage failures on the writer connection.
    let pool: DatabasePool
    private let path: String
    let readOnly: Bool
    /// When the writer last committed a batch: the follower waits for a quiet moment
    /// before it indexes a backlog smaller than a step (`deferredWork`).
    let lastWrite = NIOLockedValueBox(ContinuousClock.now)
    /// Started by `prepare()` (the hub), not by tools that open the store beside it.
    private let checkpointer = NIOLockedValueBox<WALCheckpointer?>(nil)
    /// WAL pages beyond which the writer starts the WAL over (see `WALCheckpointer`):
    /// 65,536 pages is 256 MiB at SQLite's default page size, a pause of about 30 ms every
    /// few seconds of the heaviest sustained load measured. Lowered by a test.
    private let walLimitFrames: Int

    /// Opens (creating if needed) the database file at `path`.
    ///
    /// Call `prepare()` before anything else: it runs the migrations.
    /// - Throws: `StoreError` of kind `.unavailable` when the file cannot be opened.
    public convenience init(path: String) throws {
        try self.init(path: path, readOnly: false)
    }

    /// Opens the file read-only when `readOnly` is true: every write then fails with
    /// `.unavailable`. Used by tests to get a genuinely read-only database even when they
    /// run as root, which ignores file permissions.
    init(path: String, readOnly: Bool, walLimitFrames: Int = 65_536) throws {
        self.path = path
        self.walLimitFrames = walLimitFrames
        self.readOnly = readOnly
        var configuration = Configuration()
        configuration.label = "dugnad.store"
        configuration.readonly = readOnly
        // SQLite enforces the invariants the schema declares (memberships and messages
        // of unknown channels, reactions to unknown messages). GRDB's default, stated
        // here because the store relies on it.
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.prepareDatabase { db in
            // WAL (set up by DatabasePool) with synchronous=NORMAL: a commit is appended
            // to the WAL with write(2) but fsync'ed only at checkpoints. A process crash
            // (kill -9) or a restart loses nothing that was committed, because the WAL
            // is in the OS page cache and is replayed on the next open; only a power
            // loss or kernel panic may drop the last commits. We promise durability of
            // acknowledged messages against crashes and restarts, not power loss, so
            // NORMAL buys the group commit its throughput (FULL would fsync every batch).
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError.unavailable(error, doing: "open the database at \(path)")
        }
    }

    public func migrate() throws {
        do {
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError.unavailable(error, doing: "migrate the database")
        }
    }

    public func prepare() throws {
        do {
            try Self.migrator.migrate(pool)
            try pool.write { db in
                try Self.closeSessionsLeftOpen(db)
            }
            // What a crash or a tool left behind, before the first search.
            try SQLiteFollower.catchUp(pool)
        } catch {
            throw StoreError.unavailable(error, doing: "prepare the database")
        }
        try startCheckpointing()
    }

    /// Moves WAL checkpoints off the writer (see `WALCheckpointer`): the writer connection
    /// stops checkpointing by itself, a background connection does it every 100 ms.
    private func startCheckpointing() throws {
        guard !readOnly, checkpointer.withLockedValue({ $0 == nil }) else { return }
        do {
            let background = try WALCheckpointer(
                path: path, interval: .milliseconds(100), restartAfterFrames: walLimitFrames)
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
            try background.watch(pool)
            checkpointer.withLockedValue { $0 = background }
            background.start()
        } catch {
            throw StoreError.unavailable(error, doing: "start the WAL checkpointer")
        }
    }

    /// Between two batches, on the writer's thread: see `WALCheckpointer.restartIfOversized`.
    func restartWALIfOversized() {
        checkpointer.withLockedValue { $0 }?.restartIfOversized(pool)
    }

    public func close() {
        let background = checkpointer.withLockedValue { current in
            defer { current = nil }
            return current
        }
        if let background {
            background.unwatch(pool)
            background.stop()
        }
    }

    /// Bytes the readiness probe writes: the largest frame a message can take, more than
    /// one publish's rows and index entries.
    static let probeRoomBytes = 64 * 1024

    public func checkWritable() throws {
        // A real commit, so that a full disk, a read-only file or an I/O error shows up
        // here rather than on the next publish. The probe table holds a single row, with
        // room for more than a publish writes (see the `v4-probe-room` migration).
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        do {
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO store_probe (id, checked_at, room) VALUES (1, ?, zeroblob(?))
                        ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at, room = excluded.room
                        """,
                    arguments: [now, Self.probeRoomBytes])
            }
        } catch {
            throw StoreError.unavailable(error, doing: "write to the database")
        }
    }

    /// Runs a read on one of the pool's reader connections, turning any failure into a
    /// `StoreError` (every read of the `Store` API goes through it).
    func reading<T>(_ action: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch {
            throw StoreError.mapping(error, doing: action)
        }
    }

    /// Sessions still open at start-up were left open by a crash (or a kill): close them
    /// at the last time they were known alive, and let that feed the users' last_seen.
    private static func closeSessionsLeftOpen(_ db: Database) throws {
        try db.execute(
            sql: """
                UPDATE users
                SET last_seen = max(
                    coalesce(last_seen, 0),
                    (SELECT max(s.last_alive) FROM sessions s
                     WHERE s.user_id = users.id AND s.disconnected_at IS NULL))
                WHERE id IN (SELECT user_id FROM sessions WHERE disconnected_at IS NULL)
                """)
        try db.execute(
            sql: "UPDATE sessions SET disconnected_at = last_alive WHERE disconnected_at IS NULL")
    }
}

extension StoreError {
    /// Maps any error of SQLite or GRDB to the store's error kinds.
    ///
    /// Constraint violations are the caller's mistake about one op (`.notFound` for a
    /// reference to a missing row, `.conflict` for a taken key). Everything else (full
    /// disk, read-only file, I/O error, cannot open, busy, corrupt file, or a decoding
    /// failure) means storage cannot be trusted right now: `.unavailable`.
    static func mapping(_ error: any Error, doing action: String) -> StoreError {
        if let error = error as? StoreError {
            return error
        }
        guard let dbError = error as? DatabaseError else {
            return StoreError(.unavailable, "could not \(action): \(error)")
        }
        switch dbError.extendedResultCode {
        case .SQLITE_CONSTRAINT_FOREIGNKEY:
            return StoreError(.notFound, "could not \(action): a referenced row does not exist")
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            return StoreError(.conflict, "could not \(action): \(dbError.message ?? "already exists")")
        default:
            break
        }
        let reason: String
        switch dbError.resultCode {
        case .SQLITE_CONSTRAINT:
            return StoreError(.conflict, "could not \(action): \(dbError.message ?? "constraint violated")")
        case .SQLITE_FULL:
            reason = "the disk is full"
        case .SQLITE_READONLY:
            reason = "the database is read-only"
        case .SQLITE_IOERR:
            reason = "disk I/O error"
        case .SQLITE_CANTOPEN:
            reason = "the database file cannot be opened"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            reason = "the database is locked by another process"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            reason = "the database file is corrupt or not a database"
        case .SQLITE_PERM, .SQLITE_AUTH:
            reason = "access to the database file was denied"
        case .SQLITE_NOMEM:
            reason = "out of memory"
        default:
            reason = "SQLite error"
        }
        return StoreError(
            .unavailable, "could not \(action): \(reason) (\(dbError.message ?? "\(dbError.resultCode)"))")
    }

    /// Like `mapping(_:doing:)`, but always `.unavailable`: for failures that lose a
    /// whole batch or a whole operation, where "nothing was stored" is what the caller
    /// needs to know.
    static func unavailable(_ error: any Error, doing action: String) -> StoreError {
        let mapped = mapping(error, doing: action)
        return mapped.kind == .unavailable ? mapped : StoreError(.unavailable, mapped.message)
    }
}
