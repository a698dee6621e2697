import Dispatch
import GRDB
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
    private let queue = DispatchQueue(label: "dugnad.checkpoint", qos: .utility)
    private let stopped = NIOLockedValueBox(false)

    init(path: String, interval: DispatchTimeInterval) throws {
        var configuration = Configuration()
        configuration.label = "dugnad.checkpoint"
        configuration.busyMode = .timeout(SQLiteStore.busyTimeout)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.interval = interval
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
        _ = try? connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
    }
}
