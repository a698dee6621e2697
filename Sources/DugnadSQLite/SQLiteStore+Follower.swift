import DugnadCore
import GRDB

extension SQLiteStore {
    /// A backlog the follower takes on even while publishes wait: one step after each
    /// batch from here on keeps the lag under this plus a batch (at most 1,024 rows),
    /// whatever the load. About 60 ms of catching up for a search that arrives then.
    static let pressingBacklog: Int64 = 8_192
    /// A backlog smaller than a step waits for the writer to be this quiet, so that a
    /// trickle of messages is indexed in few transactions, and no later than this after
    /// the last write.
    static let followerQuietPeriod: Duration = .milliseconds(200)

    /// See `Store.deferredWork(writerIdle:)`: a step of `SQLiteFollower` when the backlog
    /// is a step's worth and the writer idle, when it presses, or when the writer has been
    /// quiet for `followerQuietPeriod`.
    public func deferredWork(writerIdle: Bool) throws -> Duration? {
        guard !readOnly else { return nil }
        do {
            let position = try pool.writeWithoutTransaction { try SQLiteFollower.position($0) }
            guard position.backlog > 0 else { return nil }
            let quietFor = lastWrite.withLockedValue { $0 }.duration(to: .now)
            let due =
                position.backlog >= Self.pressingBacklog
                || (writerIdle && (position.backlog >= SQLiteFollower.stepRows || quietFor >= Self.followerQuietPeriod))
            guard due else { return writerIdle ? Self.followerQuietPeriod - quietFor : nil }
            let after = try pool.write { try SQLiteFollower.step($0) }
            return after.backlog > 0 && writerIdle ? .zero : nil
        } catch {
            throw StoreError.mapping(error, doing: "bring the search index and the engagement figures up to date")
        }
    }

    public func catchUpDeferredWork() throws {
        guard !readOnly else { return }
        do {
            try SQLiteFollower.catchUp(pool)
        } catch {
            throw StoreError.mapping(error, doing: "bring the search index and the engagement figures up to date")
        }
    }

    /// For a read that must see every message stored before it (search, the engagement
    /// figures): catches up when a reader's snapshot shows a backlog, and only then takes
    /// the writer.
    func followedForReading() throws {
        let behind = try reading("read how far the search index reaches") { db in
            try SQLiteFollower.position(db).backlog > 0
        }
        if behind { try catchUpDeferredWork() }
    }
}
