import DugnadProtocol
import Foundation
import GRDB
import Logging
import Testing

@testable import DugnadCore
@testable import DugnadSQLite

/// `SQLiteFollower`: the search index and the engagement rollups follow the messages in
/// batches, off the publish's transaction. What a search or the figures read is checked
/// against the messages in `StoreBehaviour` (both engines); here, what only SQLite has:
/// the watermark, edits on either side of it, the migration, a restart, and the writer
/// driving the follower while it is idle.
@Suite struct SQLiteFollowerTests {
    @Test func editsAndDeletionsOnEitherSideOfTheWatermarkKeepTheIndexRight() throws {
        try withTemporaryFile { path in
            let store = try SQLiteStore(path: path)
            try store.prepare()
            try publish(store, count: 6, body: { "kaffe nummer \($0)" })
            // Follow two rows of six: m0 and m1 are indexed, m2 to m5 are not.
            let position = try store.pool.write { try SQLiteFollower.step($0, limit: 2) }
            #expect(position == .init(through: 2, newest: 6))
            try expectAllSucceed(
                store,
                [
                    .editMessage(MessageEdit(messageID: "m0", body: "te nummer 0", at: 2)),
                    .editMessage(MessageEdit(messageID: "m3", body: "te nummer 3", at: 2)),
                    .deleteMessage(messageID: "m1", at: 2),
                    .deleteMessage(messageID: "m4", at: 2),
                ])
            #expect(try found(store, "kaffe") == ["m2", "m5"])
            #expect(try found(store, "te") == ["m0", "m3"])
            #expect(try rowCount(store, "SELECT through_rowid FROM message_follower") == 6, "the search caught up")
            // Only now: the check compares the index with every row, so it fails while
            // rows wait for the follower. Had a trigger told FTS5 to delete the words of a
            // row it did not hold, the index would fail it for good.
            try integrityCheck(store)
            // Edited again once followed: through the trigger.
            try expectAllSucceed(store, [.editMessage(MessageEdit(messageID: "m3", body: "kaffe igjen", at: 3))])
            try integrityCheck(store)
            #expect(try found(store, "kaffe") == ["m2", "m3", "m5"])
        }
    }

    @Test func theMigrationKeepsWhatTheTriggerIndexedAndFillsTheRollups() throws {
        try withTemporaryFile { path in
            let store = try SQLiteStore(path: path)
            try SQLiteStore.migrator.migrate(store.pool, upTo: "v11-engagement-indexes")
            try expectAllSucceed(store, [.createChannel(name: "general", kind: .public, title: "General", createdAt: 1)])
            let day: Int64 = 86_400_000
            try expectAllSucceed(
                store,
                (0..<40).map { index in
                    .publish(
                        message("m\(index)", from: "u\(index % 3)", body: "melding \(index)", ts: 20_000 * day + Int64(index) * 3_600_000))
                })
            try store.prepare()
            #expect(try rowCount(store, "SELECT through_rowid FROM message_follower") == 40)
            #expect(try rowCount(store, "SELECT sum(messages) FROM channel_days") == 40)
            #expect(try rowCount(store, "SELECT count(*) FROM channel_days") == 2, "40 hours from midnight: two days")
            #expect(try rowCount(store, "SELECT count(*) FROM channel_posters") == 3)
            #expect(try rowCount(store, "SELECT last_ts FROM channel_posters WHERE from_id = 'u0'") == 20_000 * day + 39 * 3_600_000)
            try integrityCheck(store)
            #expect(try found(store, "melding").count == 40)
            // New rows are no longer indexed in the publish's transaction.
            try publish(store, count: 1, first: 40, body: { _ in "ny melding" })
            #expect(try rowCount(store, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'ny'") == 0)
            #expect(try found(store, "ny") == ["m40"])
        }
    }

    @Test func aStoreOpenedAgainCatchesUpBeforeItsFirstSearch() throws {
        try withTemporaryFile { path in
            do {
                let store = try SQLiteStore(path: path)
                try store.prepare()
                // As a crash leaves it: written, not followed.
                try publish(store, count: 3_000, body: { "lenge siden \($0)" })
                #expect(try rowCount(store, "SELECT through_rowid FROM message_follower") == 0)
            }
            let reopened = try SQLiteStore(path: path)
            try reopened.prepare()
            #expect(try rowCount(reopened, "SELECT through_rowid FROM message_follower") == 3_000)
            #expect(try rowCount(reopened, "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'lenge'") == 3_000)
            #expect(try rowCount(reopened, "SELECT sum(messages) FROM channel_days") == 3_000)
            try integrityCheck(reopened)
        }
    }

    /// The writer follows by itself: a backlog of several steps while it is idle, and a
    /// trickle smaller than a step once it has been quiet a while. Waits for the
    /// watermark with a generous bound; no search runs meanwhile.
    @Test func theWriterFollowsWhenItIsIdle() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dugnad-follower-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("hub.sqlite").path)
        try store.prepare()
        try expectAllSucceed(store, [.createChannel(name: "general", kind: .public, title: "General", createdAt: 1)])
        var logger = Logger(label: "dugnad-follower-test")
        logger.logLevel = .critical
        let writer = BatchingWriter(store: store, logger: logger, afterBatch: { _ in })
        for index in 0..<2_500 {
            let queued = writer.submit(.publish(message("m\(index)", body: "mange \(index)"))) { _, _ in }
            #expect(queued)
        }
        await writer.flush()
        #expect(try await eventually { try rowCount(store, "SELECT through_rowid FROM message_follower") == 2_500 })
        for index in 2_500..<2_503 {
            let queued = writer.submit(.publish(message("m\(index)", body: "få \(index)"))) { _, _ in }
            #expect(queued)
        }
        await writer.flush()
        #expect(try await eventually { try rowCount(store, "SELECT through_rowid FROM message_follower") == 2_503 })
        try integrityCheck(store)
        writer.close()
        await writer.flush()
    }

    // MARK: Helpers

    private func publish(_ store: SQLiteStore, count: Int, first: Int = 0, body: (Int) -> String) throws {
        if try store.channel(named: "general") == nil {
            try expectAllSucceed(store, [.createChannel(name: "general", kind: .public, title: "General", createdAt: 1)])
        }
        try expectAllSucceed(store, (first..<(first + count)).map { .publish(message("m\($0)", body: body($0))) })
    }

    private func message(_ id: String, from: String = "u1", body: String, ts: Int64 = 1_764_411_223_123) -> NewMessage {
        NewMessage(
            id: id, channel: "general", fromID: from, fromName: from.uppercased(), body: body, metaJSON: nil,
            replyTo: nil, clientID: nil, ts: ts)
    }

    private func expectAllSucceed(_ store: SQLiteStore, _ ops: [WriteOp]) throws {
        for (index, result) in try store.write(ops).enumerated() {
            if case .failure(let error) = result { Issue.record("op \(index) failed: \(error)") }
        }
    }

    /// Ids found, in id order.
    private func found(_ store: SQLiteStore, _ text: String) throws -> [String] {
        let search = MessageSearch(terms: try SearchTerms.parse(text), channels: ["general"], limit: 100)
        return try store.searchMessages(search).messages.map(\.id).sorted()
    }

    /// FTS5 compares the index with the content table: any drift fails the statement (as
    /// does a row the follower has not reached yet).
    private func integrityCheck(_ store: SQLiteStore) throws {
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
        }
    }

    /// Polls `condition` every 20 ms until it holds, for at most 60 s (a loaded machine).
    private func eventually(_ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try condition()
    }
}
