import DugnadCore
import DugnadProtocol
import Testing

/// What every `Store` must do, ported from the SQLite store's tests so that one set of
/// expectations runs against each store. Announcements and engagement are in the
/// extensions.
enum StoreBehaviour {
    static let all: [Behaviour] =
        hub + announcements + engagement + governance + goals + receipts + lateRecipients + directory + search + edits
        + sessionOpening

    static let hub: [Behaviour] = [
        Behaviour(name: "seqs are gapless per channel across batches", check: seqsAreGaplessPerChannelAcrossBatches),
        Behaviour(name: "a failing op fails alone and leaves no seq gap", check: failingOpFailsAloneAndLeavesNoSeqGap),
        Behaviour(
            name: "a duplicate client_id returns the first message and stores once",
            check: duplicateClientIDReturnsTheFirstMessageAndStoresOnce),
        Behaviour(name: "a restart keeps everything", check: restartKeepsEverything),
        Behaviour(
            name: "history pages are ascending with hasMore at both edges",
            check: historyPagesAreAscendingWithHasMoreAtBothEdges),
        Behaviour(
            name: "read positions start at lastSeq, move forward only and follow publishes",
            check: readPositionsStartAtLastSeqMoveForwardOnlyAndFollowPublishes),
        Behaviour(name: "forget ends the membership", check: forgetEndsTheMembership),
        Behaviour(
            name: "members are paged by user id with names and last_seen",
            check: membersArePagedByUserIDWithNamesAndLastSeen),
        Behaviour(name: "reactions report whether they changed anything", check: reactionsReportWhetherTheyChangedAnything),
        Behaviour(
            name: "createChannel keeps an existing channel and gives fresh epochs",
            check: createChannelKeepsAnExistingChannelAndGivesFreshEpochs),
        Behaviour(
            name: "sessions left open by a crash are closed at last_alive and feed last_seen",
            check: sessionsLeftOpenByACrashAreClosedAtLastAliveAndFeedLastSeen),
        Behaviour(name: "byte order of ids, as in SQLite", check: idsSortByBytes),
    ]

    // MARK: - Seqs, batches, idempotency

    static func seqsAreGaplessPerChannelAcrossBatches(_ harness: any StoreHarness) throws {
        let store = harness.store
        try createChannels(store, "general", "random")
        var seqs: [String: [Int64]] = [:]
        for batch in 0..<4 {
            let ops: [WriteOp] = (0..<5).map { index in
                .publish(newMessage("m\(batch)-\(index)", channel: index % 2 == 0 ? "general" : "random"))
            }
            for result in try store.write(ops) {
                let (message, duplicate) = try #require(result.message)
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

    static func failingOpFailsAloneAndLeavesNoSeqGap(_ harness: any StoreHarness) throws {
        let store = harness.store
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
        #expect(results[0].message?.message.seq == 1)
        #expect(results[1].failure?.kind == .notFound)
        #expect(results[2].failure?.kind == .notFound)
        #expect(results[3].failure?.kind == .notFound)
        #expect(results[4].failure?.kind == .conflict)
        let reply = try #require(results[5].message?.message)
        #expect(reply.seq == 2)
        #expect(reply.replyTo == "a1")

        #expect(try store.channel(named: "general")?.lastSeq == 2)
        #expect(try store.channel(named: "random")?.lastSeq == 1)
        #expect(try store.message(id: "x1") == nil)
        #expect(try store.message(id: "x2") == nil)
        #expect(try store.message(id: "a1")?.body == "hi")
        let next = try store.write([.publish(newMessage("a3", channel: "general"))])
        #expect(next[0].message?.message.seq == 3)
        let history = try store.messages(channel: "general", page: .latest(limit: 50))
        #expect(history.messages.map(\.id) == ["a1", "a2", "a3"])
    }

    static func duplicateClientIDReturnsTheFirstMessageAndStoresOnce(_ harness: any StoreHarness) throws {
        let store = harness.store
        try createChannels(store, "general", "other")
        let first = try store.write([
            .publish(newMessage("m1", channel: "general", from: "u1", body: "first", clientID: "c1")),
            .publish(newMessage("m2", channel: "general", from: "u1", body: "retry", clientID: "c1")),
            .publish(newMessage("m3", channel: "general", from: "u2", body: "other user", clientID: "c1")),
        ])
        let original = try #require(first[0].message)
        #expect(original.message.seq == 1 && !original.duplicate)
        let retry = try #require(first[1].message)
        #expect(retry.duplicate)
        #expect(retry.message == original.message)
        let otherUser = try #require(first[2].message)
        #expect(!otherUser.duplicate && otherUser.message.seq == 2)

        // A later retry, even to another channel, returns the first message.
        let later = try store.write([
            .publish(newMessage("m4", channel: "general", from: "u1", body: "later retry", clientID: "c1")),
            .publish(newMessage("m5", channel: "other", from: "u1", body: "elsewhere", clientID: "c1")),
        ])
        #expect(later[0].message?.duplicate == true)
        #expect(later[0].message?.message == original.message)
        #expect(later[1].message?.message == original.message)

        #expect(try store.message(id: "m2") == nil)
        #expect(try store.message(id: "m4") == nil)
        #expect(try store.message(id: "m5") == nil)
        #expect(try store.channel(named: "general")?.lastSeq == 2)
        #expect(try store.channel(named: "other")?.lastSeq == 0)
        #expect(try store.messages(channel: "general", page: .latest(limit: 50)).messages.map(\.id) == ["m1", "m3"])
    }

    // MARK: - Durability

    static func restartKeepsEverything(_ harness: any StoreHarness) throws {
        let store = harness.store
        try createChannels(store, "general")
        _ = try store.write([
            .upsertUser(id: "u1", name: "Kari", roles: ["leader", "a,b"], seenAt: 500),
            .join(userID: "u1", channel: "general", at: 500),
            .publish(newMessage("m1", channel: "general", from: "u1", clientID: "c1")),
            .publish(newMessage("m2", channel: "general", from: "u2", body: "svar ✓", meta: #"{"k":1, "z":[2]}"#)),
            .react(messageID: "m1", userID: "u2", emoji: "👍", remove: false, at: 600),
        ])
        let channelBefore = try #require(try store.channel(named: "general"))
        let messagesBefore = try store.messages(channel: "general", page: .latest(limit: 10)).messages

        let reopened = try harness.restarted()
        try reopened.prepare()
        #expect(try reopened.channel(named: "general") == channelBefore)
        #expect(try reopened.messages(channel: "general", page: .latest(limit: 10)).messages == messagesBefore)
        #expect(messagesBefore.map(\.seq) == [1, 2])
        // The client's meta comes back as the exact text it was sent as.
        #expect(messagesBefore[1].metaJSON == #"{"k":1, "z":[2]}"#)
        #expect(messagesBefore[1].body == "svar ✓")
        #expect(try reopened.memberships(userID: "u1") == [MembershipRecord(channel: channelBefore, readSeq: 1)])
        #expect(
            try reopened.user(id: "u1") == UserRecord(id: "u1", name: "Kari", roles: ["leader", "a,b"], lastSeen: 500))
        // The idempotency key and the reaction survived too.
        let retry = try reopened.write([
            .publish(newMessage("m9", channel: "general", from: "u1", clientID: "c1")),
            .react(messageID: "m1", userID: "u2", emoji: "👍", remove: false, at: 700),
            .publish(newMessage("m3", channel: "general")),
        ])
        #expect(retry[0].message?.duplicate == true)
        #expect(retry[1].reaction?.changed == false)
        #expect(retry[2].message?.message.seq == 3)
    }

    // MARK: - History

    static func historyPagesAreAscendingWithHasMoreAtBothEdges(_ harness: any StoreHarness) throws {
        let store = harness.store
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

    // MARK: - Memberships and read positions

    static func readPositionsStartAtLastSeqMoveForwardOnlyAndFollowPublishes(_ harness: any StoreHarness) throws {
        let store = harness.store
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
        #expect(joined[2].failure?.kind == .notFound)

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
        #expect(marks[3].failure?.kind == .notFound)
        #expect(marks[4].failure?.kind == .notFound)
        #expect(try store.memberships(userID: "stranger").isEmpty)

        _ = try store.write([.publish(newMessage("m6", channel: "general", from: "u1"))])
        let memberships = try store.memberships(userID: "u1")
        #expect(memberships.count == 1)
        #expect(memberships.first?.readSeq == 6)
        #expect(memberships.first?.channel.lastSeq == 6)
        _ = try store.write([.publish(newMessage("m7", channel: "general", from: "bot"))])
        #expect(try store.memberships(userID: "u1").first?.readSeq == 6)
    }

    static func forgetEndsTheMembership(_ harness: any StoreHarness) throws {
        let store = harness.store
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

        let rejoined = try store.write([.join(userID: "u1", channel: "general", at: 2)])
        guard case .success(.membership(_, let readSeq, let created)) = rejoined[0] else {
            Issue.record("rejoin did not succeed: \(rejoined[0])")
            return
        }
        #expect(readSeq == 1 && created)
    }

    static func membersArePagedByUserIDWithNamesAndLastSeen(_ harness: any StoreHarness) throws {
        let store = harness.store
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
        #expect(second.members[0] == UserRecord(id: "u3", name: "Per", roles: ["admin"], lastSeen: 300))
        #expect(second.members[1] == UserRecord(id: "u4", name: "u4", roles: [], lastSeen: nil))

        let last = try store.members(channel: "general", afterUserID: "u4", limit: 2)
        #expect(last.members.map(\.id) == ["u5"])
        #expect(!last.hasMore)
        let exactlyFull = try store.members(channel: "general", afterUserID: "u3", limit: 2)
        #expect(exactlyFull.members.map(\.id) == ["u4", "u5"])
        #expect(!exactlyFull.hasMore)
    }

    // MARK: - Reactions

    static func reactionsReportWhetherTheyChangedAnything(_ harness: any StoreHarness) throws {
        let store = harness.store
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
        #expect(results.prefix(7).map { $0.reaction?.changed } == [true, false, true, true, true, false, true])
        #expect(
            results[0].reaction
                == ReactionRecord(messageID: "m1", channel: "general", userID: "u1", emoji: "👍", changed: true))
        #expect(results[7].failure?.kind == .notFound)
        #expect(try harness.count("SELECT count(*) FROM reactions WHERE message_id = 'm1'") == 3)
    }

    // MARK: - Channels

    static func createChannelKeepsAnExistingChannelAndGivesFreshEpochs(_ harness: any StoreHarness) throws {
        let store = harness.store
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

    // MARK: - Sessions

    static func sessionsLeftOpenByACrashAreClosedAtLastAliveAndFeedLastSeen(_ harness: any StoreHarness) throws {
        let store = harness.store
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
        // The process dies here: s1, s2 and s4 are still open.

        let openSessions = "SELECT id FROM sessions WHERE disconnected_at IS NULL ORDER BY id"
        let restarted = try harness.restarted()
        #expect(try harness.texts(openSessions) == ["s1", "s2", "s4"])
        try restarted.prepare()
        #expect(try harness.texts(openSessions).isEmpty)
        #expect(
            try harness.texts("SELECT id || ':' || CAST(disconnected_at AS TEXT) FROM sessions ORDER BY id")
                == ["s1:300", "s2:300", "s3:250", "s4:300"])
        #expect(try restarted.user(id: "u1")?.lastSeen == 300)
        #expect(try restarted.user(id: "u2")?.lastSeen == 300)
        #expect(try restarted.user(id: "u9") == nil)
    }

    /// Ids and names sort by their bytes (SQLite's BINARY collation), not by a locale:
    /// upper case before lower case, and the members' paging follows the same order.
    static func idsSortByBytes(_ harness: any StoreHarness) throws {
        let store = harness.store
        try createChannels(store, "b", "B", "a", "_x", "Ä")
        #expect(try store.allChannels().map(\.name) == ["B", "_x", "a", "b", "Ä"])
        _ = try store.write(["b", "B", "a", "Z", "ä"].map { .join(userID: $0, channel: "a", at: 1) })
        #expect(try store.members(channel: "a", afterUserID: nil, limit: 10).members.map(\.id) == ["B", "Z", "a", "b", "ä"])
        #expect(try store.members(channel: "a", afterUserID: "Z", limit: 2).members.map(\.id) == ["a", "b"])
    }
}
