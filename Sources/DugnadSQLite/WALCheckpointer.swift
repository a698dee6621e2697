import Dispatch
import DugnadCore
import GRDB
import GRDBSQLite
import NIOConcurrencyHelpers

/// Copies committed pages from the WAL into the database file, on a connection and a
/// thread of its own.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses the WAL's size
/// threshold, on the committing thread: with synchronous=NORMAL that is where the only
/// fsyncs are, and measured here they stalled the single writer for 2–18 ms several times
/// a second, which every publish of the next batch waited for. A passive checkpoint from
/// another connection runs beside the writer (it never blocks it, nor waits for readers),
/// so the writer's commits are only appends to the WAL. SQLite restarts the WAL from its
/// beginning once everything in it is checkpointed, so it does not grow without bound.
///
/// Threading: the connection is used only on `queue`; `stop` may be called from anywhere.
final class WALCheckpointer: Sendable {
    private let connection: DatabaseQueue
    private let interval: DispatchTimeInterval
    /// WAL frames (pages) beyond which the writer starts the WAL over.
    private let restartAfterFrames: Int
    private let queue = DispatchQueue(label: "dugnad.checkpoint", qos: .utility)
    private let stopped = NIOLockedValueBox(false)
    /// Set by a commit (`watch`) or a checkpoint that found more than
    /// `restartAfterFrames` in the WAL.
    private let oversized = NIOLockedValueBox(false)

    init(path: String, interval: DispatchTimeInterval, restartAfterFrames: Int) throws {
        var configuration = Configuration()
        configuration.label = "dugnad.checkpoint"
        configuration.busyMode = .timeout(SQLiteStore.busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.interval = interval
        self.restartAfterFrames = restartAfterFrames
    }

    /// Starts checkpointing every `interval`, until `stop()` or until this object is freed.
    func start() {
        schedule()
    }

    /// Stops the timer, then runs one last checkpoint.
    func stop() {
        stopped.withLockedValue { $0 = true }
        queue.sync { checkpoint() }
    }

    private func schedule() {
        queue.asyncAfter(deadline: .now() + interval) { [weak self] in
            guard let self, !self.stopped.withLockedValue({ $0 }) else { return }
            self.checkpoint()
            self.schedule()
        }
    }

    /// A full disk or an I/O error fails the checkpoint, not a write: the WAL keeps the
    /// pages and the next checkpoint tries again.
    private func checkpoint() {
        guard let passive = try? connection.writeWithoutTransaction({ db in try db.checkpoint(.passive) }) else { return }
        if passive.walFrameCount > restartAfterFrames { oversized.withLockedValue { $0 = true } }
    }

    /// Has the writer connection report the WAL's size at every commit (SQLite's WAL hook,
    /// free: SQLite knows the count). Without it only the background checkpoint noticed an
    /// oversized WAL, and when that thread got no CPU — a busy machine, measured in the
    /// WAL test beside three other test processes — the WAL grew to 80 MB against a bound
    /// of 800 KB. Call `unwatch` before this object goes.
    func watch(_ writer: DatabasePool) throws {
        let context = Unmanaged.passUnretained(self).toOpaque()
        try writer.writeWithoutTransaction { db in
            _ = sqlite3_wal_hook(
                db.sqliteConnection,
                { context, _, _, frames in
                    guard let context else { return SQLITE_OK }
                    Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().noteWALFrames(Int(frames))
                    return SQLITE_OK
                }, context)
        }
    }

    /// Takes the hook back (the writer may outlive this object).
    func unwatch(_ writer: DatabasePool) {
        try? writer.writeWithoutTransaction { db in _ = sqlite3_wal_hook(db.sqliteConnection, nil, nil) }
    }

    private func noteWALFrames(_ frames: Int) {
        if frames > restartAfterFrames { oversized.withLockedValue { $0 = true } }
    }

    /// Starts the WAL over when the last commit or checkpoint found it over its bound; called by
    /// the writer between transactions, on the writer connection.
    ///
    /// Under sustained writes a passive checkpoint never finds the WAL fully copied at the
    /// moment the writer begins its next transaction, so SQLite never starts the WAL over
    /// and the file grows without bound (measured: 425 MB in ten seconds of durable
    /// publishing). A restarting checkpoint from this background connection would starve:
    /// the writer takes the lock again the moment it commits. So the writer does it itself,
    /// between two batches: it copies what the passive checkpoint left, syncs the database
    /// file and starts the WAL over from its beginning (the file keeps its size, so no
    /// truncation cost). Measured during sustained durable publishing: 24–33 ms, once per
    /// `restartAfterFrames` pages written.
    func restartIfOversized(_ writer: DatabasePool) {
        let due = oversized.withLockedValue { flag in
            let was = flag
            flag = false
            return was
        }
        guard due else { return }
        _ = try? writer.writeWithoutTransaction { db in try db.checkpoint(.restart) }
    }
}
