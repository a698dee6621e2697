import DugnadProtocol
import Foundation
import GRDB
import Testing

@testable import DugnadCore

/// The SQLite store against real database files, each test on a fresh one.
@Suite struct SQLiteStoreTests {
    // MARK: - Seqs, batches, idempotency

    @Test func seqsAreGaplessPerChannelAcrossBatches() throws {
        try withStore { store, _ in
            try createChannels(store, "general", "random")
            var seqs: [String: [Int64]] = [:]
            for batch in 0..<4 {
                let ops: [WriteOp] = (0..<5).map { index in
                    .publish(newMessage("m\(batch)-\(index)", channel: index % 2 == 0 ? "general" : "random"))
                }
                for result in try store.write(ops) {
                    let (message, duplicate) = try #require(storedMessage(result))
                    #expect(!duplicate)
                    seqs[message.channel, default: []].append(message.seq)
                }
            }
            #expect(seqs["general"] == Array(1...12))
            #expect(seqs["random"] == Array(1...8))
            #expect(try store.channel(named: "general")?.lastSeq == 12)
            #expect(try store.channel(named: "random")?.lastSeq == 8)
            let history = try store.messages(channel: "general", page: .latest(limit: 100))
            #expect(history.messages.map(\.seq) == Array(1...12))
            #expect(history.messages.first?.id == "m0-0")
        }
    }

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

    @Test func failingOpFailsAloneAndLeavesNoSeqGap() throws {
        try withStore { store, _ in
            try createChannels(store, "general", "random")
            _ = try store.write([.publish(newMessage("r1", channel: "random"))])

            let results = try store.write([
                .publish(newMessage("a1", channel: "general")),
                .publish(newMessage("x1", channel: "no-such-channel")),
                .publish(newMessage("x2", channel: "general", replyTo: "r1")),
                .publish(newMessage("x3", channel: "general", replyTo: "no-such-message")),
                .publish(newMessage("a1", channel: "general", body: "same id again")),
                .publish(newMessage("a2", channel: "general", replyTo: "a1")),
            ])
            #expect(results.count == 6)
            #expect(storedMessage(results[0])?.message.seq == 1)
            #expect(results[1].storeError?.kind == .notFound)
            #expect(results[2].storeError?.kind == .notFound)
            #expect(results[3].storeError?.kind == .notFound)
            #expect(results[4].storeError?.kind == .conflict)
            let reply = try #require(storedMessage(results[5])?.message)
            #expect(reply.seq == 2)
            #expect(reply.replyTo == "a1")

            #expect(try store.channel(named: "general")?.lastSeq == 2)
            #expect(try store.channel(named: "random")?.lastSeq == 1)
            #expect(try store.message(id: "x1") == nil)
            #expect(try store.message(id: "x2") == nil)
            #expect(try store.message(id: "a1")?.body == "hi")
            let next = try store.write([.publish(newMessage("a3", channel: "general"))])
            #expect(storedMessage(next[0])?.message.seq == 3)
            let history = try store.messages(channel: "general", page: .latest(limit: 50))
            #expect(history.messages.map(\.id) == ["a1", "a2", "a3"])
        }
    }

    @Test func duplicateClientIDReturnsTheFirstMessageAndStoresOnce() throws {
        try withStore { store, _ in
            try createChannels(store, "general")
            let first = try store.write([
                .publish(newMessage("m1", channel: "general", from: "u1", body: "first", clientID: "c1")),
                .publish(newMessage("m2", channel: "general", from: "u1", body: "retry", clientID: "c1")),
                .publish(newMessage("m3", channel: "general", from: "u2", body: "other user", clientID: "c1")),
            ])
            let original = try #require(storedMessage(first[0]))
            #expect(original.message.seq == 1 && !original.duplicate)
            let retry = try #require(storedMessage(first[1]))
            #expect(retry.duplicate)
            #expect(retry.message == original.message)
            let otherUser = try #require(storedMessage(first[2]))
            #expect(!otherUser.duplicate && otherUser.message.seq == 2)

            let later = try store.write([
                .publish(newMessage("m4", channel: "general", from: "u1", body: "later retry", clientID: "c1"))
            ])
            let laterRetry = try #require(storedMessage(later[0]))
            #expect(laterRetry.duplicate)
            #expect(laterRetry.message == original.message)

            #expect(try store.message(id: "m2") == nil)
            #expect(try store.message(id: "m4") == nil)
            #expect(try store.channel(named: "general")?.lastSeq == 2)
            #expect(
                try store.messages(channel: "general", page: .latest(limit: 50)).messages.map(\.id) == ["m1", "m3"])
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

    // MARK: - History

    @Test func historyPagesAreAscendingWithHasMoreAtBothEdges() throws {
        try withStore { store, _ in
            try createChannels(store, "general", "empty")
            _ = try store.write((1...10).map { .publish(newMessage("m\($0)", channel: "general")) })

            func page(_ page: HistoryPage) throws -> ([Int64], Bool) {
                let result = try store.messages(channel: "general", page: page)
                return (result.messages.map(\.seq), result.hasMore)
            }
            #expect(try page(.latest(limit: 3)) == ([8, 9, 10], true))
            #expect(try page(.latest(limit: 10)) == (Array(1...10), false))
            #expect(try page(.latest(limit: 50)) == (Array(1...10), false))
            #expect(try page(.latest(limit: 0)) == ([], true))

            #expect(try page(.before(seq: 8, limit: 3)) == ([5, 6, 7], true))
            #expect(try page(.before(seq: 4, limit: 3)) == ([1, 2, 3], false))
            #expect(try page(.before(seq: 3, limit: 5)) == ([1, 2], false))
            #expect(try page(.before(seq: 1, limit: 5)) == ([], false))
            #expect(try page(.before(seq: 100, limit: 2)) == ([9, 10], true))

            #expect(try page(.after(seq: 6, limit: 3)) == ([7, 8, 9], true))
            #expect(try page(.after(seq: 7, limit: 3)) == ([8, 9, 10], false))
            #expect(try page(.after(seq: 0, limit: 2)) == ([1, 2], true))
            #expect(try page(.after(seq: 10, limit: 3)) == ([], false))

            let empty = try store.messages(channel: "empty", page: .latest(limit: 50))
            #expect(empty.messages.isEmpty && !empty.hasMore)
            let unknown = try store.messages(channel: "no-such-channel", page: .after(seq: 0, limit: 50))
            #expect(unknown.messages.isEmpty && !unknown.hasMore)
        }
    }

    // MARK: - Memberships and read positions

    @Test func readPositionsStartAtLastSeqMoveForwardOnlyAndFollowPublishes() throws {
        try withStore { store, _ in
            try createChannels(store, "general")
            _ = try store.write((1...3).map { .publish(newMessage("m\($0)", channel: "general", from: "bot")) })

            let joined = try store.write([
                .join(userID: "u1", channel: "general", at: 10),
                .join(userID: "u1", channel: "general", at: 11),
                .join(userID: "u1", channel: "no-such-channel", at: 12),
            ])
            guard case .success(.membership(let channel, let readSeq, let created)) = joined[0] else {
                Issue.record("join did not succeed: \(joined[0])")
                return
            }
            #expect(channel.name == "general" && channel.lastSeq == 3)
            #expect(readSeq == 3 && created)
            guard case .success(.membership(_, let againSeq, let againCreated)) = joined[1] else {
                Issue.record("second join did not succeed: \(joined[1])")
                return
            }
            #expect(againSeq == 3 && !againCreated)
            #expect(joined[2].storeError?.kind == .notFound)

            _ = try store.write([4, 5].map { .publish(newMessage("m\($0)", channel: "general", from: "bot")) })
            let marks = try store.write([
                .markRead(userID: "u1", channel: "general", seq: 4),
                .markRead(userID: "u1", channel: "general", seq: 2),
                .markRead(userID: "u1", channel: "general", seq: 99),
                .markRead(userID: "stranger", channel: "general", seq: 5),
                .markRead(userID: "u1", channel: "no-such-channel", seq: 5),
            ])
            #expect(marks[0].outcome == .readSeq(4))
            #expect(marks[1].outcome == .readSeq(4))
            #expect(marks[2].outcome == .readSeq(5))
            #expect(marks[3].storeError?.kind == .notFound)
            #expect(marks[4].storeError?.kind == .notFound)
            #expect(try store.memberships(userID: "stranger").isEmpty)

            _ = try store.write([.publish(newMessage("m6", channel: "general", from: "u1"))])
            let memberships = try store.memberships(userID: "u1")
            #expect(memberships.count == 1)
            #expect(memberships.first?.readSeq == 6)
            #expect(memberships.first?.channel.lastSeq == 6)
            // Someone else's message leaves u1's position alone.
            _ = try store.write([.publish(newMessage("m7", channel: "general", from: "bot"))])
            #expect(try store.memberships(userID: "u1").first?.readSeq == 6)
        }
    }

    @Test func forgetEndsTheMembership() throws {
        try withStore { store, _ in
            try createChannels(store, "general", "random")
            _ = try store.write([
                .join(userID: "u1", channel: "general", at: 1),
                .join(userID: "u1", channel: "random", at: 1),
                .publish(newMessage("m1", channel: "general", from: "bot")),
            ])
            #expect(try store.isMember(userID: "u1", channel: "general"))

            let results = try store.write([
                .forget(userID: "u1", channel: "general"),
                .forget(userID: "u1", channel: "general"),
            ])
            #expect(results.map(\.outcome) == [.done, .done])
            #expect(try !store.isMember(userID: "u1", channel: "general"))
            #expect(try store.memberships(userID: "u1").map(\.channel.name) == ["random"])
            #expect(try store.members(channel: "general", afterUserID: nil, limit: 10).members.isEmpty)

            // A member that comes back starts again at the newest message.
            let rejoined = try store.write([.join(userID: "u1", channel: "general", at: 2)])
            guard case .success(.membership(_, let readSeq, let created)) = rejoined[0] else {
                Issue.record("rejoin did not succeed: \(rejoined[0])")
                return
            }
            #expect(readSeq == 1 && created)
        }
    }

    @Test func membersArePagedByUserIDWithNamesAndLastSeen() throws {
        try withStore { store, _ in
            try createChannels(store, "general", "random")
            _ = try store.write(
                ["u5", "u3", "u1", "u4", "u2"].map { .join(userID: $0, channel: "general", at: 1) } + [
                    .join(userID: "u0", channel: "random", at: 1),
                    .upsertUser(id: "u1", name: "Kari", roles: ["leader", "member"], seenAt: 100),
                    .upsertUser(id: "u2", name: "Ola", roles: [], seenAt: 200),
                    .upsertUser(id: "u3", name: "Old name", roles: ["member"], seenAt: 300),
                    .upsertUser(id: "u3", name: "Per", roles: ["admin"], seenAt: 250),
                ])

            let first = try store.members(channel: "general", afterUserID: nil, limit: 2)
            #expect(first.members.map(\.id) == ["u1", "u2"])
            #expect(first.hasMore)
            #expect(first.members[0] == UserRecord(id: "u1", name: "Kari", roles: ["leader", "member"], lastSeen: 100))

            let second = try store.members(channel: "general", afterUserID: "u2", limit: 2)
            #expect(second.members.map(\.id) == ["u3", "u4"])
            #expect(second.hasMore)
            // Name and roles follow the newest token; last_seen never moves back.
            #expect(second.members[0] == UserRecord(id: "u3", name: "Per", roles: ["admin"], lastSeen: 300))
            // A member the hub has no user row for is listed under its id.
            #expect(second.members[1] == UserRecord(id: "u4", name: "u4", roles: [], lastSeen: nil))

            let last = try store.members(channel: "general", afterUserID: "u4", limit: 2)
            #expect(last.members.map(\.id) == ["u5"])
            #expect(!last.hasMore)
            let exactlyFull = try store.members(channel: "general", afterUserID: "u3", limit: 2)
            #expect(exactlyFull.members.map(\.id) == ["u4", "u5"])
            #expect(!exactlyFull.hasMore)
        }
    }

    // MARK: - Reactions

    @Test func reactionsReportWhetherTheyChangedAnything() throws {
        try withStore { store, _ in
            try createChannels(store, "general")
            _ = try store.write([.publish(newMessage("m1", channel: "general"))])
            let results = try store.write([
                .react(messageID: "m1", userID: "u1", emoji: "👍", remove: false, at: 1),
                .react(messageID: "m1", userID: "u1", emoji: "👍", remove: false, at: 2),
                .react(messageID: "m1", userID: "u2", emoji: "👍", remove: false, at: 3),
                .react(messageID: "m1", userID: "u1", emoji: "🎉", remove: false, at: 4),
                .react(messageID: "m1", userID: "u1", emoji: "👍", remove: true, at: 5),
                .react(messageID: "m1", userID: "u1", emoji: "👍", remove: true, at: 6),
                .react(messageID: "m1", userID: "u1", emoji: "👍", remove: false, at: 7),
                .react(messageID: "no-such-message", userID: "u1", emoji: "👍", remove: false, at: 8),
            ])
            #expect(results.prefix(7).map { reaction($0)?.changed } == [true, false, true, true, true, false, true])
            #expect(
                reaction(results[0])
                    == ReactionRecord(messageID: "m1", channel: "general", userID: "u1", emoji: "👍", changed: true))
            #expect(results[7].storeError?.kind == .notFound)
            let count = try store.pool.read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM reactions WHERE message_id = 'm1'")
            }
            #expect(count == 3)
        }
    }

    // MARK: - Channels

    @Test func createChannelKeepsAnExistingChannelAndGivesFreshEpochs() throws {
        try withStore { store, _ in
            let results = try store.write([
                .createChannel(name: "general", kind: .public, title: "General", createdAt: 10),
                .createChannel(name: "general", kind: .private, title: "Other", createdAt: 20),
                .createChannel(name: "news", kind: .announce, title: "News", createdAt: 30),
            ])
            guard case .success(.channel(let general, let created)) = results[0],
                case .success(.channel(let again, let againCreated)) = results[1],
                case .success(.channel(let news, true)) = results[2]
            else {
                Issue.record("createChannel did not succeed: \(results)")
                return
            }
            #expect(created && !againCreated)
            #expect(again == general)
            #expect(general.kind == .public && general.title == "General" && general.lastSeq == 0)
            #expect(general.createdAt == 10)
            for epoch in [general.epoch, news.epoch] {
                #expect(epoch.hasPrefix("e_") && epoch.count == 12)
                #expect(epoch.dropFirst(2).allSatisfy { "0123456789abcdefghjkmnpqrstvwxyz".contains($0) })
            }
            #expect(general.epoch != news.epoch)
            #expect(try store.allChannels().map(\.name) == ["general", "news"])
            #expect(try store.channel(named: "news") == news)
            #expect(try store.channel(named: "nothing") == nil)
            try store.checkWritable()
        }
    }

    // MARK: - Sessions

    @Test func sessionsLeftOpenByACrashAreClosedAtLastAliveAndFeedLastSeen() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("hub.sqlite").path
            do {
                let store = try SQLiteStore(path: path)
                try store.prepare()
                _ = try store.write([
                    .upsertUser(id: "u1", name: "Kari", roles: [], seenAt: 100),
                    .upsertUser(id: "u2", name: "Ola", roles: [], seenAt: 110),
                    .openSession(id: "s1", userID: "u1", at: 100),
                    .openSession(id: "s2", userID: "u2", at: 110),
                    .openSession(id: "s3", userID: "u1", at: 120),
                    .openSession(id: "s4", userID: "u9", at: 130),
                ])
                _ = try store.write([.heartbeat(at: 200)])
                _ = try store.write([.closeSession(id: "s3", userID: "u1", at: 250)])
                #expect(try store.user(id: "u1")?.lastSeen == 250)
                #expect(try store.user(id: "u2")?.lastSeen == 110)
                _ = try store.write([.heartbeat(at: 300)])
                // The process dies here: s1, s2 and s4 are still open in the file.
            }

            let restarted = try SQLiteStore(path: path)
            #expect(try openSessionIDs(restarted) == ["s1", "s2", "s4"])
            try restarted.prepare()
            #expect(try openSessionIDs(restarted).isEmpty)
            let closedAt = try restarted.pool.read { db in
                try Dictionary(
                    uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, disconnected_at FROM sessions").map {
                        (
                            try $0.decode(String.self, forColumn: "id"),
                            try $0.decode(Int64.self, forColumn: "disconnected_at")
                        )
                    })
            }
            #expect(closedAt == ["s1": 300, "s2": 300, "s3": 250, "s4": 300])
            #expect(try restarted.user(id: "u1")?.lastSeen == 300)
            #expect(try restarted.user(id: "u2")?.lastSeen == 300)
            #expect(try restarted.user(id: "u9") == nil)
        }
    }

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

private func openSessionIDs(_ store: SQLiteStore) throws -> [String] {
    try store.pool.read { db in
        try String.fetchAll(db, sql: "SELECT id FROM sessions WHERE disconnected_at IS NULL ORDER BY id")
    }
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
