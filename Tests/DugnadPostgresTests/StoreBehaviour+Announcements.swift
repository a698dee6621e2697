import DugnadCore
import DugnadProtocol
import Testing

/// Announcements, receipts, reminders, urgent re-sends, users and API keys, ported from
/// the SQLite store's tests.
extension StoreBehaviour {
    static let announcements: [Behaviour] = [
        Behaviour(
            name: "the audience of all is every known user but the author, fixed at posting",
            check: audienceOfAllIsEveryKnownUserButTheAuthorFixedAtPosting),
        Behaviour(
            name: "the audience of channels is their distinct members at posting",
            check: audienceOfChannelsIsTheirDistinctMembersAtPosting),
        Behaviour(
            name: "an unknown channel in the audience fails and stores nothing",
            check: unknownChannelInTheAudienceFailsAndStoresNothing),
        Behaviour(
            name: "a duplicate announcement client_id stores once and returns the first",
            check: duplicateAnnouncementClientIDStoresOnce),
        Behaviour(name: "reads and acks are recorded once and feed the stats", check: readsAndAcksAreRecordedOnce),
        Behaviour(name: "receipts outside the audience are not found", check: receiptsOutsideTheAudienceAreNotFound),
        Behaviour(
            name: "markDelivered counts first deliveries to the audience only",
            check: markDeliveredCountsFirstDeliveriesToTheAudienceOnly),
        Behaviour(
            name: "remind returns exactly the users who have not acknowledged",
            check: remindReturnsExactlyTheUsersWhoHaveNotAcknowledged),
        Behaviour(
            name: "remind without ack returns the users who have not read",
            check: remindWithoutAckReturnsTheUsersWhoHaveNotRead),
        Behaviour(
            name: "urgent re-sends respect the interval, the online set and the maximum",
            check: urgentResendsRespectTheIntervalTheOnlineSetAndTheMaximum),
        Behaviour(
            name: "pending announcements list all unacknowledged, then recent unread newest first",
            check: pendingAnnouncementsListAllUnacknowledgedThenRecentUnread),
        Behaviour(
            name: "pending announcements include the edge of the seven days",
            check: pendingAnnouncementsIncludeTheEdgeOfTheSevenDays),
        Behaviour(
            name: "importUsers upserts name and roles and keeps last_seen and created_at",
            check: importUsersUpsertsNameAndRolesAndKeepsLastSeenAndCreatedAt),
        Behaviour(
            name: "API keys are created, looked up, listed and revoked", check: apiKeysAreCreatedLookedUpListedAndRevoked
        ),
    ]

    // MARK: - Audience

    static func audienceOfAllIsEveryKnownUserButTheAuthorFixedAtPosting(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "u1", "u2", "u3", "u4")
        let (record, audience, duplicate) = try #require(
            try store.write([.announce(newAnnouncement("a1", from: "u1"))])[0].announced)
        #expect(!duplicate)
        #expect(audience == ["u2", "u3", "u4"])
        #expect(record.audienceCount == 3)
        #expect(try store.announcement(id: "a1") == record)

        try addUsers(store, "u5")
        #expect(try store.isInAudience(announcementID: "a1", userID: "u2"))
        #expect(try !store.isInAudience(announcementID: "a1", userID: "u5"))
        #expect(try !store.isInAudience(announcementID: "a1", userID: "u1"))
        #expect(try store.announcementStats(id: "a1") == AnnouncementStats(audience: 3, delivered: 0, read: 0, acked: 0))
        #expect(try store.pendingAnnouncements(userID: "u5", now: 2_000).isEmpty)
    }

    static func audienceOfChannelsIsTheirDistinctMembersAtPosting(_ harness: any StoreHarness) throws {
        let store = harness.store
        try createChannels(store, "alpha", "beta", "gamma")
        _ = try store.write([
            .join(userID: "u1", channel: "alpha", at: 1),
            .join(userID: "u2", channel: "alpha", at: 1),
            .join(userID: "u2", channel: "beta", at: 1),
            .join(userID: "u3", channel: "beta", at: 1),
            .join(userID: "u4", channel: "gamma", at: 1),
        ])
        let (record, audience, _) = try #require(
            try store.write([.announce(newAnnouncement("a1", from: "u1", audience: .channels(["alpha", "beta"])))])[0]
                .announced)
        #expect(audience == ["u2", "u3"])
        #expect(record.audienceCount == 2)
        #expect(try store.announcement(id: "a1")?.audience == .channels(["alpha", "beta"]))

        _ = try store.write([.join(userID: "u5", channel: "alpha", at: 2)])
        #expect(try !store.isInAudience(announcementID: "a1", userID: "u5"))
        #expect(try store.announcementStats(id: "a1")?.audience == 2)
    }

    static func unknownChannelInTheAudienceFailsAndStoresNothing(_ harness: any StoreHarness) throws {
        let store = harness.store
        try createChannels(store, "alpha")
        _ = try store.write([.join(userID: "u2", channel: "alpha", at: 1)])
        let results = try store.write([
            .announce(newAnnouncement("a1", from: "u1", audience: .channels(["alpha", "nope", "zilch"])))
        ])
        #expect(results[0].failure?.kind == .notFound)
        #expect(results[0].failure?.message == "no channel 'nope'")
        #expect(try store.announcement(id: "a1") == nil)
        #expect(try !store.isInAudience(announcementID: "a1", userID: "u2"))
    }

    static func duplicateAnnouncementClientIDStoresOnce(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "u1", "u2", "u3")
        let results = try store.write([
            .announce(newAnnouncement("a1", from: "u1", title: "First", clientID: "c1")),
            .announce(newAnnouncement("a2", from: "u1", title: "Retry", clientID: "c1")),
            .announce(newAnnouncement("a3", from: "u2", title: "Other author", clientID: "c1")),
        ])
        let first = try #require(results[0].announced)
        #expect(!first.duplicate && first.audience == ["u2", "u3"])
        let retry = try #require(results[1].announced)
        #expect(retry.duplicate)
        #expect(retry.audience.isEmpty)
        #expect(retry.record == first.record)
        let other = try #require(results[2].announced)
        #expect(!other.duplicate && other.audience == ["u1", "u3"])

        let later = try #require(
            try store.write([.announce(newAnnouncement("a4", from: "u1", clientID: "c1"))])[0].announced)
        #expect(later.duplicate && later.record.id == "a1")
        #expect(try store.announcement(id: "a2") == nil)
        #expect(try store.announcement(id: "a4") == nil)
        #expect(try harness.count("SELECT count(*) FROM announcement_audience WHERE announcement_id = 'a1'") == 2)
    }

    // MARK: - Receipts

    static func readsAndAcksAreRecordedOnce(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "u1", "u2", "u3", "u4")
        _ = try store.write([.announce(newAnnouncement("a1", from: "u1", requireAck: true))])

        let results = try store.write([
            .acknowledge(announcementID: "a1", userID: "u2", kind: .read, at: 1_100),
            .acknowledge(announcementID: "a1", userID: "u2", kind: .read, at: 1_200),
            .acknowledge(announcementID: "a1", userID: "u2", kind: .ack, at: 1_300),
            .acknowledge(announcementID: "a1", userID: "u2", kind: .ack, at: 1_400),
            .acknowledge(announcementID: "a1", userID: "u3", kind: .ack, at: 1_500),
            .acknowledge(announcementID: "a1", userID: "u3", kind: .read, at: 1_600),
        ])
        #expect(results.map(\.receiptChanged) == [true, false, true, false, true, false])
        #expect(try store.announcementStats(id: "a1") == AnnouncementStats(audience: 3, delivered: 2, read: 2, acked: 2))

        // The first times stay: u2 read at 1,100 and acknowledged at 1,300.
        let receipts = try harness.texts(
            """
            SELECT user_id || ' ' || coalesce(CAST(delivered_at AS TEXT), 'nil') || ' '
                || coalesce(CAST(read_at AS TEXT), 'nil') || ' ' || coalesce(CAST(acked_at AS TEXT), 'nil')
            FROM announcement_audience WHERE announcement_id = 'a1' ORDER BY user_id
            """)
        #expect(receipts == ["u2 1100 1100 1300", "u3 1500 1500 1500", "u4 nil nil nil"])
        #expect(try store.announcementStats(id: "nope") == nil)
    }

    static func receiptsOutsideTheAudienceAreNotFound(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "u1", "u2")
        _ = try store.write([.announce(newAnnouncement("a1", from: "u1"))])
        let results = try store.write([
            .acknowledge(announcementID: "a1", userID: "u1", kind: .read, at: 1_100),
            .acknowledge(announcementID: "a1", userID: "stranger", kind: .ack, at: 1_100),
            .acknowledge(announcementID: "nope", userID: "u2", kind: .read, at: 1_100),
            .remind(announcementID: "nope", byUserID: "u1", at: 1_100),
            .acknowledge(announcementID: "a1", userID: "u2", kind: .read, at: 1_100),
        ])
        #expect(results[0].failure?.kind == .notFound)
        #expect(results[1].failure?.kind == .notFound)
        #expect(results[2].failure?.kind == .notFound)
        #expect(results[3].failure?.kind == .notFound)
        #expect(results[4].receiptChanged == true)
        #expect(try store.announcementStats(id: "a1")?.read == 1)
    }

    static func markDeliveredCountsFirstDeliveriesToTheAudienceOnly(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "u1", "u2", "u3", "u4")
        _ = try store.write([.announce(newAnnouncement("a1", from: "u1"))])
        let results = try store.write([
            .markDelivered(announcementID: "a1", userIDs: ["u2", "u3", "stranger", "u1"], at: 1_100),
            .markDelivered(announcementID: "a1", userIDs: ["u2", "u3", "u4"], at: 1_200),
            .markDelivered(announcementID: "a1", userIDs: ["u4"], at: 1_300),
            .markDelivered(announcementID: "a1", userIDs: [], at: 1_400),
            .markDelivered(announcementID: "nope", userIDs: ["u2"], at: 1_500),
        ])
        #expect(results.map(\.count) == [2, 1, 0, 0, 0])
        #expect(try store.announcementStats(id: "a1")?.delivered == 3)
        // The delivery keeps its first time; the latest send is what re-sends wait on.
        #expect(
            try harness.texts(
                """
                SELECT CAST(delivered_at AS TEXT) || '/' || CAST(last_sent_at AS TEXT)
                FROM announcement_audience WHERE user_id = 'u2'
                """) == ["1100/1200"])
    }

    // MARK: - Reminders

    static func remindReturnsExactlyTheUsersWhoHaveNotAcknowledged(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "u1", "u2", "u3", "u4", "u5")
        _ = try store.write([
            .announce(newAnnouncement("a1", from: "u1", requireAck: true)),
            .acknowledge(announcementID: "a1", userID: "u2", kind: .ack, at: 1_100),
            .acknowledge(announcementID: "a1", userID: "u3", kind: .read, at: 1_100),
        ])
        let results = try store.write([
            .remind(announcementID: "a1", byUserID: "u1", at: 2_000),
            .remind(announcementID: "a1", byUserID: "u9", at: 3_000),
        ])
        #expect(results[0].recipients == ["u3", "u4", "u5"])
        #expect(results[1].recipients == ["u3", "u4", "u5"])
        #expect(
            try harness.texts(
                """
                SELECT by_user_id || '@' || CAST(at AS TEXT) || ':' || CAST(recipients AS TEXT)
                FROM announcement_reminders ORDER BY at
                """) == ["u1@2000:3", "u9@3000:3"])
        #expect(
            try harness.count(
                "SELECT CAST(sum(reminded_count) AS BIGINT) FROM announcement_audience WHERE announcement_id = 'a1'")
                == 6)
    }

    static func remindWithoutAckReturnsTheUsersWhoHaveNotRead(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "u1", "u2", "u3", "u4")
        _ = try store.write([
            .announce(newAnnouncement("a1", from: "u1", requireAck: false)),
            .acknowledge(announcementID: "a1", userID: "u3", kind: .read, at: 1_100),
        ])
        let results = try store.write([.remind(announcementID: "a1", byUserID: "u1", at: 2_000)])
        #expect(results[0].recipients == ["u2", "u4"])

        _ = try store.write([
            .acknowledge(announcementID: "a1", userID: "u2", kind: .read, at: 2_100),
            .acknowledge(announcementID: "a1", userID: "u4", kind: .ack, at: 2_100),
        ])
        let none = try store.write([.remind(announcementID: "a1", byUserID: "u1", at: 3_000)])
        #expect(none[0].recipients == [])
        #expect(try harness.count("SELECT count(*) FROM announcement_reminders") == 2)
    }

    // MARK: - Urgent re-sends

    static func urgentResendsRespectTheIntervalTheOnlineSetAndTheMaximum(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "u1", "u2", "u3", "u4", "u5")
        _ = try store.write([
            .announce(newAnnouncement("urgent", from: "u1", priority: .urgent, requireAck: true)),
            .announce(newAnnouncement("no-ack", from: "u1", priority: .urgent, requireAck: false)),
            .announce(newAnnouncement("important", from: "u1", priority: .important, requireAck: true)),
            .markDelivered(announcementID: "urgent", userIDs: ["u2", "u3", "u5"], at: 10_000),
            .markDelivered(announcementID: "no-ack", userIDs: ["u2", "u3", "u4", "u5"], at: 10_000),
            .markDelivered(announcementID: "important", userIDs: ["u2", "u3", "u4", "u5"], at: 10_000),
        ])
        let online = ["u2", "u3", "u4"]
        func due(_ now: Int64, online: [String] = online, max: Int = 2) throws -> [String: [String]]? {
            try store.write([
                .dueUrgentResends(onlineUserIDs: online, now: now, intervalMillis: 1_000, maxResends: max)
            ])[0].resends
        }

        #expect(try due(10_999) == ["urgent": ["u4"]])
        #expect(try due(10_999) == [:])
        #expect(try due(11_000) == ["urgent": ["u2", "u3"]])
        _ = try store.write([.acknowledge(announcementID: "urgent", userID: "u3", kind: .ack, at: 11_500)])
        #expect(try due(11_998) == [:])
        #expect(try due(11_999) == ["urgent": ["u4"]])
        #expect(try due(12_000) == ["urgent": ["u2"]])
        #expect(try due(20_000) == [:])
        #expect(try due(20_000, online: ["u5"]) == ["urgent": ["u5"]])
        #expect(try due(30_000, online: online, max: 3) == ["urgent": ["u2", "u4"]])
        #expect(try due(40_000, online: [], max: 9) == [:])

        #expect(
            try harness.texts(
                """
                SELECT user_id || ':' || CAST(resend_count AS TEXT) || '@' || CAST(last_sent_at AS TEXT)
                FROM announcement_audience WHERE announcement_id = 'urgent' ORDER BY user_id
                """) == ["u2:3@30000", "u3:1@11000", "u4:3@30000", "u5:1@20000"])
    }

    // MARK: - Welcome

    static func pendingAnnouncementsListAllUnacknowledgedThenRecentUnread(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "author", "me")
        let day: Int64 = 86_400_000
        let now: Int64 = 100 * day
        var ops: [WriteOp] = [
            .announce(newAnnouncement("ack-old", from: "author", requireAck: true, ts: 1 * day)),
            .announce(newAnnouncement("ack-mid", from: "author", requireAck: true, ts: 50 * day)),
            .announce(newAnnouncement("ack-read", from: "author", requireAck: true, ts: 60 * day)),
            .announce(newAnnouncement("ack-done", from: "author", requireAck: true, ts: 99 * day)),
            .acknowledge(announcementID: "ack-read", userID: "me", kind: .read, at: 61 * day),
            .acknowledge(announcementID: "ack-done", userID: "me", kind: .ack, at: 99 * day + 5),
            .announce(newAnnouncement("too-old", from: "author", ts: now - 7 * day - 1)),
            .announce(newAnnouncement("edge", from: "author", ts: now - 7 * day)),
            .announce(newAnnouncement("read", from: "author", ts: now - day)),
            .acknowledge(announcementID: "read", userID: "me", kind: .read, at: now - day + 1),
        ]
        for index in 0..<60 {
            ops.append(.announce(newAnnouncement("n\(index)", from: "author", ts: now - 6 * day + Int64(index) * 1_000)))
        }
        #expect(try store.write(ops).allSatisfy { $0.failure == nil })

        let pending = try store.pendingAnnouncements(userID: "me", now: now)
        let ids = pending.map(\.announcement.id)
        #expect(Array(ids.prefix(3)) == ["ack-old", "ack-mid", "ack-read"])
        #expect(Array(ids.dropFirst(3)) == (10..<60).reversed().map { "n\($0)" })
        #expect(pending.count == 53)
        #expect(pending[2].readAt == 61 * day && pending[2].ackedAt == nil)
        #expect(pending[0].readAt == nil && pending[0].ackedAt == nil)

        #expect(!ids.contains("edge") && !ids.contains("too-old") && !ids.contains("read"))
        #expect(try store.pendingAnnouncements(userID: "author", now: now).isEmpty)
    }

    static func pendingAnnouncementsIncludeTheEdgeOfTheSevenDays(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "author", "me")
        let day: Int64 = 86_400_000
        let now: Int64 = 100 * day
        _ = try store.write([
            .announce(newAnnouncement("too-old", from: "author", ts: now - 7 * day - 1)),
            .announce(newAnnouncement("edge", from: "author", ts: now - 7 * day)),
            .announce(newAnnouncement("new", from: "author", ts: now - 1)),
        ])
        #expect(try store.pendingAnnouncements(userID: "me", now: now).map(\.announcement.id) == ["new", "edge"])
    }

    // MARK: - Users

    static func importUsersUpsertsNameAndRolesAndKeepsLastSeenAndCreatedAt(_ harness: any StoreHarness) throws {
        let store = harness.store
        _ = try store.write([.upsertUser(id: "u1", name: "Kari", roles: ["member"], seenAt: 500)])
        let createdBefore = try harness.integer("SELECT created_at FROM users WHERE id = 'u1'")
        let results = try store.write([
            .importUsers([
                UserRecord(id: "u1", name: "Kari Nordmann", roles: ["leader", "a,b"], lastSeen: nil),
                UserRecord(id: "u0", name: "Ola", roles: [], lastSeen: nil),
                // Listed twice: the last name and roles win, the first last_seen stays.
                UserRecord(id: "u7", name: "First", roles: ["x"], lastSeen: 70),
                UserRecord(id: "u7", name: "Second", roles: ["z", "y"], lastSeen: 80),
            ]),
            .importUsers([]),
        ])
        #expect(results.map(\.count) == [4, 0])
        #expect(
            try store.allUsers() == [
                UserRecord(id: "u0", name: "Ola", roles: [], lastSeen: nil),
                UserRecord(id: "u1", name: "Kari Nordmann", roles: ["leader", "a,b"], lastSeen: 500),
                UserRecord(id: "u7", name: "Second", roles: ["z", "y"], lastSeen: 70),
            ])
        #expect(try harness.integer("SELECT created_at FROM users WHERE id = 'u1'") == createdBefore)

        let (_, audience, _) = try #require(
            try store.write([.announce(newAnnouncement("a1", from: "u1"))])[0].announced)
        #expect(audience == ["u0", "u7"])
    }

    // MARK: - API keys

    static func apiKeysAreCreatedLookedUpListedAndRevoked(_ harness: any StoreHarness) throws {
        let store = harness.store
        let ci = apiKey("k_1", name: "ci", hash: "h1", createdAt: 100)
        let deploy = apiKey("k_2", name: "deploy", hash: "h2", createdAt: 200)
        let created = try store.write([
            .createAPIKey(deploy),
            .createAPIKey(ci),
            .createAPIKey(apiKey("k_3", name: "other", hash: "h1", createdAt: 300)),
            .createAPIKey(apiKey("k_4", name: "ci", hash: "h4", createdAt: 300)),
            .createAPIKey(apiKey("k_1", name: "again", hash: "h5", createdAt: 300)),
        ])
        #expect(created[0].apiKey == deploy)
        #expect(created[1].apiKey == ci)
        #expect(created[2].failure?.kind == .conflict)
        #expect(created[3].failure?.kind == .conflict)
        #expect(created[4].failure?.kind == .conflict)
        #expect(try store.apiKey(hash: "h1") == ci)
        #expect(try store.apiKey(hash: "h4") == nil)
        #expect(try store.apiKeys() == [ci, deploy])

        let revoked = try store.write([
            .revokeAPIKey(idOrName: "ci", at: 1_000),
            .revokeAPIKey(idOrName: "ci", at: 1_100),
            .revokeAPIKey(idOrName: "k_1", at: 1_200),
            .revokeAPIKey(idOrName: "k_2", at: 2_000),
            .revokeAPIKey(idOrName: "nobody", at: 2_000),
        ])
        var ciRevoked = ci
        ciRevoked.revokedAt = 1_000
        #expect(revoked[0].apiKey == ciRevoked)
        #expect(revoked[1].failure?.kind == .notFound)
        #expect(revoked[2].failure?.kind == .notFound)
        #expect(revoked[3].apiKey?.revokedAt == 2_000)
        #expect(revoked[4].failure?.kind == .notFound)
        #expect(try store.apiKey(hash: "h1") == ciRevoked)

        let replacement = apiKey("k_5", name: "ci", hash: "h6", createdAt: 3_000)
        #expect(try store.write([.createAPIKey(replacement)])[0].apiKey == replacement)
        #expect(try store.apiKeys().map(\.id) == ["k_1", "k_2", "k_5"])
        #expect(try store.revokedAPIKeyIDs(since: 0) == ["k_1", "k_2"])
        #expect(try store.revokedAPIKeyIDs(since: 1_001) == ["k_2"])
        #expect(try store.revokedAPIKeyIDs(since: 2_000) == ["k_2"])
        #expect(try store.revokedAPIKeyIDs(since: 2_001) == [])
        let again = try store.write([.revokeAPIKey(idOrName: "ci", at: 4_000)])
        #expect(again[0].apiKey?.id == "k_5")
    }
}
