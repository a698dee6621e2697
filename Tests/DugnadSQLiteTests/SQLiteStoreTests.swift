import DugnadProtocol
import Foundation
import GRDB
import Testing

@testable import DugnadCore
@testable import DugnadSQLite

/// The SQLite store against real database files, each test on a fresh one: what only
/// SQLite has (WAL, the checkpointer, its failure modes). What every store must do runs
/// on SQLite and PostgreSQL alike in `StoreBehaviour` (DugnadPostgresTests).
@Suite struct SQLiteStoreTests {
    // MARK: - Seqs, batches, idempotency

    @Test func theBackgroundCheckpointerMovesCommittedPagesIntoTheDatabaseFile() throws {
        try withStore { store, path in
            try createChannels(store, "general")
            func fileSize(_ path: String) -> Int {
                ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
            }
            let before = fileSize(path)
            // About 4 MB of messages: with the writer's own checkpoints off, only the
            // background checkpointer can bring these pages into the main file.
            let body = String(repeating: "x", count: 2_000)
            for batch in 0..<20 {
                let ops: [WriteOp] = (0..<100).map { .publish(newMessage("c\(batch)-\($0)", channel: "general", body: body)) }
                _ = try store.write(ops)
            }
            let deadline = Date().addingTimeInterval(10)
            while fileSize(path) < before + 3_000_000 && Date() < deadline {
                Thread.sleep(forTimeInterval: 0.05)
            }
            #expect(fileSize(path) >= before + 3_000_000, "main file \(fileSize(path)) bytes, was \(before)")
            #expect(try store.messages(channel: "general", page: .latest(limit: 1)).messages.first?.seq == 2_000)
            // After close, everything committed is in the main file: a reopened store reads it all.
            store.close()
            let reopened = try SQLiteStore(path: path)
            #expect(try reopened.channel(named: "general")?.lastSeq == 2_000)
        }
    }

    @Test func underSustainedWritesTheWALStartsOverOnceItPassesItsBound() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("wal.sqlite").path
            // 200 pages is about 800 KB of WAL.
            let store = try SQLiteStore(path: path, readOnly: false, walLimitFrames: 200)
            try store.prepare()
            defer { store.close() }
            try createChannels(store, "general")
            // Back-to-back batches of about 100 KB each, 80 MB in all: the writer never
            // pauses, so passive checkpoints alone never let SQLite start the WAL over.
            let body = String(repeating: "x", count: 4_000)
            var largest = 0
            var written = 0
            while written < 80_000_000 {
                _ = try store.write(
                    (0..<25).map { _ in .publish(newMessage(Identifiers.messageID(), channel: "general", body: body)) })
                written += 25 * body.utf8.count
                let size = ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int) ?? 0
                largest = max(largest, size)
            }
            // Without the restart the WAL ends near the total written (measured: 60 MB of
            // 40 MB written). With it, it peaks at its bound plus what is written while a
            // passive checkpoint runs and until the next one (measured: 10–15 MB).
            #expect(largest < 30_000_000, "WAL peaked at \(largest) bytes for \(written) written")
            #expect(try store.channel(named: "general")?.lastSeq == Int64(written / (body.utf8.count)))
        }
    }

    @Test func otherOpsInABatchSeeTheSeqsAndReadPositionsOfThePublishesBeforeThem() throws {
        try withStore { store, _ in
            try createChannels(store, "general", "random")
            _ = try store.write([.join(userID: "u1", channel: "general", at: 1), .join(userID: "u1", channel: "random", at: 1)])
            // Publishes count seqs and read positions in memory until another kind of op
            // comes: the join in the middle must see seq 2, and the end of the batch must
            // store every count.
            let results = try store.write([
                .publish(newMessage("m1", channel: "general", from: "u1")),
                .publish(newMessage("m2", channel: "general", from: "u1")),
                .publish(newMessage("m3", channel: "random", from: "u1")),
                .join(userID: "u2", channel: "general", at: 2),
                .publish(newMessage("m4", channel: "general", from: "u2")),
                .publish(newMessage("m5", channel: "nowhere", from: "u2")),
                .publish(newMessage("m6", channel: "general", from: "u1")),
            ])
            #expect(results.map { storedMessage($0)?.message.seq } == [1, 2, 1, nil, 3, nil, 4])
            guard case .success(.membership(_, let joinedAt, created: true)) = results[3] else {
                Issue.record("join: \(results[3])")
                return
            }
            #expect(joinedAt == 2)
            #expect(try store.channel(named: "general")?.lastSeq == 4)
            #expect(try store.channel(named: "random")?.lastSeq == 1)
            let u1 = try store.memberships(userID: "u1").map { ($0.channel.name, $0.readSeq) }
            #expect(u1.sorted { $0.0 < $1.0 }.map(\.1) == [4, 1])
            #expect(try store.memberships(userID: "u2").map(\.readSeq) == [3])
        }
    }

    @Test func aRetryIsRecognisedWhateverElseChangedAndATakenIdIsAConflict() throws {
        try withStore { store, _ in
            try createChannels(store, "general", "random")
            let first = try #require(
                storedMessage(
                    try store.write([.publish(newMessage("m1", channel: "general", from: "u1", clientID: "c1"))])[0]))
            // The same key to another channel, to no channel at all, and with a reply_to
            // that does not exist: each is the first message again, and no seq moves.
            let retries = try store.write([
                .publish(newMessage("m2", channel: "random", from: "u1", clientID: "c1")),
                .publish(newMessage("m3", channel: "nowhere", from: "u1", clientID: "c1")),
                .publish(newMessage("m4", channel: "general", from: "u1", replyTo: "m-missing", clientID: "c1")),
            ])
            for retry in retries {
                let (message, duplicate) = try #require(storedMessage(retry))
                #expect(duplicate)
                #expect(message == first.message)
            }
            #expect(try store.channel(named: "general")?.lastSeq == 1)
            #expect(try store.channel(named: "random")?.lastSeq == 0)
            // Without a key those are plain errors, and a taken message id is a conflict
            // that leaves no gap.
            let refused = try store.write([
                .publish(newMessage("m5", channel: "nowhere")),
                .publish(newMessage("m6", channel: "general", replyTo: "m-missing")),
                .publish(newMessage("m1", channel: "general", from: "u2")),
                .publish(newMessage("m7", channel: "general")),
            ])
            let kinds = refused.prefix(3).map { result -> StoreError.Kind? in
                if case .failure(let error) = result { return error.kind }
                return nil
            }
            #expect(kinds == [.notFound, .notFound, .conflict])
            #expect(storedMessage(refused[3])?.message.seq == 2)
            #expect(try store.channel(named: "general")?.lastSeq == 2)
        }
    }

    // MARK: - Durability

    @Test func reopeningTheFileKeepsEverything() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("hub.sqlite").path
            let channelBefore: ChannelRecord
            let messagesBefore: [StoredMessage]
            do {
                let store = try SQLiteStore(path: path)
                try store.prepare()
                try createChannels(store, "general")
                _ = try store.write([
                    .upsertUser(id: "u1", name: "Kari", roles: ["leader"], seenAt: 500),
                    .join(userID: "u1", channel: "general", at: 500),
                    .publish(newMessage("m1", channel: "general", from: "u1", clientID: "c1")),
                    .publish(newMessage("m2", channel: "general", from: "u2", body: "svar", meta: #"{"k":1}"#)),
                    .react(messageID: "m1", userID: "u2", emoji: "👍", remove: false, at: 600),
                ])
                channelBefore = try #require(try store.channel(named: "general"))
                messagesBefore = try store.messages(channel: "general", page: .latest(limit: 10)).messages
            }

            let reopened = try SQLiteStore(path: path)
            try reopened.prepare()
            #expect(try reopened.channel(named: "general") == channelBefore)
            #expect(try reopened.messages(channel: "general", page: .latest(limit: 10)).messages == messagesBefore)
            #expect(messagesBefore.map(\.seq) == [1, 2])
            #expect(messagesBefore[1].metaJSON == #"{"k":1}"#)
            #expect(try reopened.memberships(userID: "u1") == [MembershipRecord(channel: channelBefore, readSeq: 1)])
            #expect(try reopened.user(id: "u1") == UserRecord(id: "u1", name: "Kari", roles: ["leader"], lastSeen: 500))
            // The idempotency key and the reaction survived too.
            let retry = try reopened.write([
                .publish(newMessage("m9", channel: "general", from: "u1", clientID: "c1")),
                .react(messageID: "m1", userID: "u2", emoji: "👍", remove: false, at: 700),
                .publish(newMessage("m3", channel: "general")),
            ])
            #expect(storedMessage(retry[0])?.duplicate == true)
            #expect(reaction(retry[1])?.changed == false)
            #expect(storedMessage(retry[2])?.message.seq == 3)
        }
    }

    // MARK: - Settings

    @Test func writerUsesWALWithNormalSynchronousAndForeignKeys() throws {
        try withStore { store, _ in
            let (journal, synchronous, foreignKeys) = try store.pool.write { db in
                (
                    try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                    try Int.fetchOne(db, sql: "PRAGMA synchronous"),
                    try Bool.fetchOne(db, sql: "PRAGMA foreign_keys")
                )
            }
            #expect(journal == "wal")
            #expect(synchronous == 1)  // NORMAL
            #expect(foreignKeys == true)
            // The schema refuses a membership of a channel that does not exist, even
            // through a path that skips the store's own checks.
            #expect(throws: DatabaseError.self) {
                try store.pool.write { db in
                    try db.execute(
                        sql:
                            "INSERT INTO memberships (user_id, channel, read_seq, joined_at) VALUES ('u1', 'nope', 0, 1)"
                    )
                }
            }
        }
    }

    // MARK: - Storage failures

    @Test func readOnlyDatabaseMakesWritesUnavailable() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("hub.sqlite").path
            do {
                let store = try SQLiteStore(path: path)
                try store.prepare()
                try createChannels(store, "general")
            }
            let fileManager = FileManager.default
            try fileManager.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)
            try fileManager.setAttributes([.posixPermissions: 0o555], ofItemAtPath: directory.path)
            defer {
                try? fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
                try? fileManager.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            }
            // The tests run as root, and root writes through 0444/0555 (CAP_DAC_OVERRIDE),
            // so the permissions alone would not stop SQLite. The store is therefore opened
            // with GRDB's `readonly` configuration, which opens the file SQLITE_OPEN_READONLY:
            // SQLite itself refuses every write with SQLITE_READONLY, as it does for a
            // read-only file.
            let store = try SQLiteStore(path: path, readOnly: true)

            let writeError = #expect(throws: StoreError.self) {
                try store.write([.publish(newMessage("m1", channel: "general"))])
            }
            #expect(writeError?.kind == .unavailable)
            #expect(writeError?.message.contains("read-only") == true)
            let probeError = #expect(throws: StoreError.self) { try store.checkWritable() }
            #expect(probeError?.kind == .unavailable)
            let prepareError = #expect(throws: StoreError.self) { try store.prepare() }
            #expect(prepareError?.kind == .unavailable)
            // What is stored can still be read.
            #expect(try store.channel(named: "general")?.lastSeq == 0)
        }
    }

    @Test func fullDiskFailsTheWholeBatchAndStoresNothing() throws {
        try withStore { store, _ in
            try createChannels(store, "general")
            _ = try store.write([.publish(newMessage("m1", channel: "general"))])
            // max_page_count caps the file at its current size on the writer connection:
            // SQLite then fails page allocations with SQLITE_FULL, as on a full disk.
            try store.pool.writeWithoutTransaction { db in
                let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
                try db.execute(sql: "PRAGMA max_page_count = \(pages)")
            }
            let error = #expect(throws: StoreError.self) {
                try store.write([
                    .publish(newMessage("m2", channel: "general", body: "small")),
                    .publish(newMessage("m3", channel: "general", body: String(repeating: "x", count: 256 * 1024))),
                ])
            }
            #expect(error?.kind == .unavailable)
            #expect(error?.message.contains("disk is full") == true)

            #expect(try store.message(id: "m2") == nil)
            #expect(try store.channel(named: "general")?.lastSeq == 1)
            try store.pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA max_page_count = 1073741823")
            }
            let after = try store.write([.publish(newMessage("m4", channel: "general"))])
            #expect(storedMessage(after[0])?.message.seq == 2)
        }
    }

    @Test func unopenableFileIsUnavailable() {
        let path = "/nonexistent-\(UUID().uuidString)/hub.sqlite"
        let error = #expect(throws: StoreError.self) { try SQLiteStore(path: path) }
        #expect(error?.kind == .unavailable)
    }
}

// MARK: - Helpers

/// Runs `body` with a fresh directory under the temporary directory, removed afterwards.
private func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("dugnad-store-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try body(directory)
}

/// Runs `body` with a prepared store on a fresh database file; the store is closed before
/// the file is removed.
private func withStore(_ body: (SQLiteStore, String) throws -> Void) throws {
    try withTemporaryDirectory { directory in
        let path = directory.appendingPathComponent("hub.sqlite").path
        let store = try SQLiteStore(path: path)
        try store.prepare()
        try body(store, path)
    }
}

private func createChannels(_ store: SQLiteStore, _ names: String...) throws {
    let results = try store.write(
        names.map { .createChannel(name: $0, kind: .public, title: $0.capitalized, createdAt: 1) })
    for result in results {
        guard case .success(.channel(_, created: true)) = result else {
            throw StoreError(.conflict, "could not create a test channel: \(result)")
        }
    }
}

private func newMessage(
    _ id: String, channel: String, from: String = "u1", body: String = "hi", meta: String? = nil,
    replyTo: String? = nil, clientID: String? = nil
) -> NewMessage {
    NewMessage(
        id: id, channel: channel, fromID: from, fromName: from.uppercased(), body: body, metaJSON: meta,
        replyTo: replyTo, clientID: clientID, ts: 1_764_411_223_123)
}

private func storedMessage(_ result: Result<WriteOutcome, StoreError>) -> (message: StoredMessage, duplicate: Bool)? {
    guard case .success(.message(let message, let duplicate)) = result else { return nil }
    return (message, duplicate)
}

private func reaction(_ result: Result<WriteOutcome, StoreError>) -> ReactionRecord? {
    guard case .success(.reaction(let record)) = result else { return nil }
    return record
}

extension Result where Success == WriteOutcome, Failure == StoreError {
    fileprivate var outcome: WriteOutcome? {
        guard case .success(let outcome) = self else { return nil }
        return outcome
    }

    fileprivate var storeError: StoreError? {
        guard case .failure(let error) = self else { return nil }
        return error
    }
}
