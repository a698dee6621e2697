import DugnadProtocol
import Foundation
import GRDB
import Testing

@testable import DugnadCore

/// Announcements, receipts, reminders, urgent re-sends, users and API keys in the SQLite
/// store, each test on a fresh database file.
@Suite struct SQLiteAnnouncementTests {
    // MARK: - Audience

    @Test func audienceOfAllIsEveryKnownUserButTheAuthorFixedAtPosting() throws {
        try withFreshStore { store in
            try addUsers(store, "u1", "u2", "u3", "u4")
            let (record, audience, duplicate) = try #require(
                announced(try store.write([.announce(newAnnouncement("a1", from: "u1"))])[0]))
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
    }

    @Test func audienceOfChannelsIsTheirDistinctMembersAtPosting() throws {
        try withFreshStore { store in
            try addChannels(store, "alpha", "beta", "gamma")
            _ = try store.write([
                .join(userID: "u1", channel: "alpha", at: 1),
                .join(userID: "u2", channel: "alpha", at: 1),
                .join(userID: "u2", channel: "beta", at: 1),
                .join(userID: "u3", channel: "beta", at: 1),
                .join(userID: "u4", channel: "gamma", at: 1),
            ])
            let (record, audience, _) = try #require(
                announced(
                    try store.write([
                        .announce(newAnnouncement("a1", from: "u1", audience: .channels(["alpha", "beta"])))
                    ])[0]))
            #expect(audience == ["u2", "u3"])
            #expect(record.audienceCount == 2)
            #expect(try store.announcement(id: "a1")?.audience == .channels(["alpha", "beta"]))

            _ = try store.write([.join(userID: "u5", channel: "alpha", at: 2)])
            #expect(try !store.isInAudience(announcementID: "a1", userID: "u5"))
            #expect(try store.announcementStats(id: "a1")?.audience == 2)
        }
    }

    @Test func unknownChannelInTheAudienceFailsAndStoresNothing() throws {
        try withFreshStore { store in
            try addChannels(store, "alpha")
            _ = try store.write([.join(userID: "u2", channel: "alpha", at: 1)])
            let results = try store.write([
                .announce(newAnnouncement("a1", from: "u1", audience: .channels(["alpha", "nope", "zilch"])))
            ])
            #expect(results[0].failure?.kind == .notFound)
            #expect(results[0].failure?.message == "no channel 'nope'")
            #expect(try store.announcement(id: "a1") == nil)
            #expect(try !store.isInAudience(announcementID: "a1", userID: "u2"))
        }
    }

    @Test func duplicateClientIDStoresOnceAndReturnsTheFirstWithAnEmptyAudience() throws {
        try withFreshStore { store in
            try addUsers(store, "u1", "u2", "u3")
            let results = try store.write([
                .announce(newAnnouncement("a1", from: "u1", title: "First", clientID: "c1")),
                .announce(newAnnouncement("a2", from: "u1", title: "Retry", clientID: "c1")),
                .announce(newAnnouncement("a3", from: "u2", title: "Other author", clientID: "c1")),
            ])
            let first = try #require(announced(results[0]))
            #expect(!first.duplicate && first.audience == ["u2", "u3"])
            let retry = try #require(announced(results[1]))
            #expect(retry.duplicate)
            #expect(retry.audience.isEmpty)
            #expect(retry.record == first.record)
            let other = try #require(announced(results[2]))
            #expect(!other.duplicate && other.audience == ["u1", "u3"])

            let later = try #require(
                announced(try store.write([.announce(newAnnouncement("a4", from: "u1", clientID: "c1"))])[0]))
            #expect(later.duplicate && later.record.id == "a1")
            #expect(try store.announcement(id: "a2") == nil)
            #expect(try store.announcement(id: "a4") == nil)
            #expect(try rowCount(store, "SELECT count(*) FROM announcement_audience WHERE announcement_id = 'a1'") == 2)
        }
    }

    // MARK: - Receipts

    @Test func readsAndAcksAreRecordedOnceAndFeedTheStats() throws {
        try withFreshStore { store in
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
            let receipts = try store.pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT user_id, delivered_at, read_at, acked_at FROM announcement_audience
                        WHERE announcement_id = 'a1' ORDER BY user_id
                        """
                ).map { row in
                    [
                        row["user_id"] as String, "\(row["delivered_at"] as Int64?)", "\(row["read_at"] as Int64?)",
                        "\(row["acked_at"] as Int64?)",
                    ]
                }
            }
            #expect(
                receipts == [
                    ["u2", "Optional(1100)", "Optional(1100)", "Optional(1300)"],
                    ["u3", "Optional(1500)", "Optional(1500)", "Optional(1500)"],
                    ["u4", "nil", "nil", "nil"],
                ])
            #expect(try store.announcementStats(id: "nope") == nil)
        }
    }

    @Test func receiptsOutsideTheAudienceAreNotFound() throws {
        try withFreshStore { store in
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
    }

    @Test func markDeliveredCountsFirstDeliveriesToTheAudienceOnly() throws {
        try withFreshStore { store in
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
            let u2 = try store.pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: "SELECT delivered_at, last_sent_at FROM announcement_audience WHERE user_id = 'u2'")
            }
            let row = try #require(u2)
            #expect(row["delivered_at"] as Int64? == 1_100)
            #expect(row["last_sent_at"] as Int64? == 1_200)
        }
    }

    // MARK: - Reminders

    @Test func remindReturnsExactlyTheUsersWhoHaveNotAcknowledged() throws {
        try withFreshStore { store in
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
            let reminders = try store.pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT by_user_id, at, recipients FROM announcement_reminders ORDER BY at"
                ).map { "\($0["by_user_id"] as String)@\($0["at"] as Int64):\($0["recipients"] as Int)" }
            }
            #expect(reminders == ["u1@2000:3", "u9@3000:3"])
            #expect(
                try rowCount(store, "SELECT sum(reminded_count) FROM announcement_audience WHERE announcement_id = 'a1'")
                    == 6)
        }
    }

    @Test func remindWithoutAckReturnsTheUsersWhoHaveNotRead() throws {
        try withFreshStore { store in
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
            #expect(try rowCount(store, "SELECT count(*) FROM announcement_reminders") == 2)
        }
    }

    // MARK: - Urgent re-sends

    @Test func urgentResendsRespectTheIntervalTheOnlineSetAndTheMaximum() throws {
        try withFreshStore { store in
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

            // u4 was never sent it: due at once. u2 and u3 were sent it at 10,000.
            #expect(try due(10_999) == ["urgent": ["u4"]])
            #expect(try due(10_999) == [:])
            #expect(try due(11_000) == ["urgent": ["u2", "u3"]])
            _ = try store.write([.acknowledge(announcementID: "urgent", userID: "u3", kind: .ack, at: 11_500)])
            // u4 was re-sent at 10,999, u2 at 11,000: each waits its own interval.
            #expect(try due(11_998) == [:])
            #expect(try due(11_999) == ["urgent": ["u4"]])
            // u2 reaches the maximum of 2 re-sends; u4 has had 2 already.
            #expect(try due(12_000) == ["urgent": ["u2"]])
            #expect(try due(20_000) == [:])
            // u5 is offline until now; the maximum is the caller's.
            #expect(try due(20_000, online: ["u5"]) == ["urgent": ["u5"]])
            #expect(try due(30_000, online: online, max: 3) == ["urgent": ["u2", "u4"]])
            #expect(try due(40_000, online: [], max: 9) == [:])

            let counts = try store.pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT user_id, resend_count, last_sent_at FROM announcement_audience
                        WHERE announcement_id = 'urgent' ORDER BY user_id
                        """
                ).map { "\($0["user_id"] as String):\($0["resend_count"] as Int)@\($0["last_sent_at"] as Int64)" }
            }
            #expect(counts == ["u2:3@30000", "u3:1@11000", "u4:3@30000", "u5:1@20000"])
        }
    }

    // MARK: - Welcome

    @Test func pendingAnnouncementsListAllUnacknowledgedThenRecentUnreadNewestFirst() throws {
        try withFreshStore { store in
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
            // 60 unread ones of the last days: only the 50 newest are listed.
            for index in 0..<60 {
                ops.append(
                    .announce(newAnnouncement("n\(index)", from: "author", ts: now - 6 * day + Int64(index) * 1_000)))
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
    }

    @Test func pendingAnnouncementsIncludeTheEdgeOfTheSevenDays() throws {
        try withFreshStore { store in
            try addUsers(store, "author", "me")
            let day: Int64 = 86_400_000
            let now: Int64 = 100 * day
            _ = try store.write([
                .announce(newAnnouncement("too-old", from: "author", ts: now - 7 * day - 1)),
                .announce(newAnnouncement("edge", from: "author", ts: now - 7 * day)),
                .announce(newAnnouncement("new", from: "author", ts: now - 1)),
            ])
            let pending = try store.pendingAnnouncements(userID: "me", now: now)
            #expect(pending.map(\.announcement.id) == ["new", "edge"])
        }
    }

    // MARK: - Users

    @Test func importUsersUpsertsNameAndRolesAndKeepsLastSeenAndCreatedAt() throws {
        try withFreshStore { store in
            _ = try store.write([.upsertUser(id: "u1", name: "Kari", roles: ["member"], seenAt: 500)])
            let createdBefore = try rowCount(store, "SELECT created_at FROM users WHERE id = 'u1'")
            let results = try store.write([
                .importUsers([
                    UserRecord(id: "u1", name: "Kari Nordmann", roles: ["leader", "a,b"], lastSeen: nil),
                    UserRecord(id: "u0", name: "Ola", roles: [], lastSeen: nil),
                ])
            ])
            #expect(results[0].count == 2)
            #expect(
                try store.allUsers() == [
                    UserRecord(id: "u0", name: "Ola", roles: [], lastSeen: nil),
                    UserRecord(id: "u1", name: "Kari Nordmann", roles: ["leader", "a,b"], lastSeen: 500),
                ])
            #expect(try rowCount(store, "SELECT created_at FROM users WHERE id = 'u1'") == createdBefore)

            // An imported user is part of the next audience of everyone.
            let (_, audience, _) = try #require(
                announced(try store.write([.announce(newAnnouncement("a1", from: "u1"))])[0]))
            #expect(audience == ["u0"])
        }
    }

    // MARK: - API keys

    @Test func apiKeysAreCreatedLookedUpListedAndRevoked() throws {
        try withFreshStore { store in
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
            // A revoked key is still found, with its revocation time: the caller refuses it.
            #expect(try store.apiKey(hash: "h1") == ciRevoked)

            // The name of a revoked key can be given to its replacement.
            let replacement = apiKey("k_5", name: "ci", hash: "h6", createdAt: 3_000)
            #expect(try store.write([.createAPIKey(replacement)])[0].apiKey == replacement)
            #expect(try store.apiKeys().map(\.id) == ["k_1", "k_2", "k_5"])
            #expect(try store.revokedAPIKeyIDs(since: 0) == ["k_1", "k_2"])
            #expect(try store.revokedAPIKeyIDs(since: 1_001) == ["k_2"])
            #expect(try store.revokedAPIKeyIDs(since: 2_000) == ["k_2"])
            #expect(try store.revokedAPIKeyIDs(since: 2_001) == [])
            // Revoking by name reaches the live key, not the revoked one of the same name.
            let again = try store.write([.revokeAPIKey(idOrName: "ci", at: 4_000)])
            #expect(again[0].apiKey?.id == "k_5")
        }
    }
}

// MARK: - Helpers shared with SQLiteEngagementTests

/// Runs `body` with a prepared store on a fresh database file in a fresh directory,
/// removed afterwards.
func withFreshStore(_ body: (SQLiteStore) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("dugnad-store-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try SQLiteStore(path: directory.appendingPathComponent("hub.sqlite").path)
    try store.prepare()
    try body(store)
}

func addUsers(_ store: SQLiteStore, _ ids: String...) throws {
    let results = try store.write(ids.map { .upsertUser(id: $0, name: $0.uppercased(), roles: [], seenAt: 1) })
    for result in results where result.failure != nil {
        throw StoreError(.conflict, "could not add a test user: \(result)")
    }
}

func addChannels(_ store: SQLiteStore, _ names: String...) throws {
    let results = try store.write(
        names.map { .createChannel(name: $0, kind: .public, title: $0.capitalized, createdAt: 1) })
    for result in results {
        guard case .success(.channel(_, created: true)) = result else {
            throw StoreError(.conflict, "could not create a test channel: \(result)")
        }
    }
}

func newAnnouncement(
    _ id: String, from: String, title: String = "Title", audience: Audience = .all, priority: Priority = .normal,
    requireAck: Bool = false, clientID: String? = nil, ts: Int64 = 1_000
) -> NewAnnouncement {
    NewAnnouncement(
        id: id, fromID: from, fromName: from.uppercased(), title: title, body: "Body of \(id)", priority: priority,
        requireAck: requireAck, audience: audience, clientID: clientID, ts: ts)
}

func announced(_ result: Result<WriteOutcome, StoreError>) -> (
    record: AnnouncementRecord, audience: [String], duplicate: Bool
)? {
    guard case .success(.announcement(let record, let audience, let duplicate)) = result else { return nil }
    return (record, audience, duplicate)
}

/// The first column of the first row, as an integer (0 when NULL).
func rowCount(_ store: SQLiteStore, _ sql: String) throws -> Int64 {
    try store.pool.read { db in try Int64.fetchOne(db, sql: sql) ?? 0 }
}

private func apiKey(_ id: String, name: String, hash: String, createdAt: Int64) -> APIKeyRecord {
    APIKeyRecord(
        id: id, name: name, hash: hash, scopes: ["publish", "read"], channels: ["ops"], createdAt: createdAt,
        revokedAt: nil)
}

extension Result where Success == WriteOutcome, Failure == StoreError {
    var failure: StoreError? {
        guard case .failure(let error) = self else { return nil }
        return error
    }

    var receiptChanged: Bool? {
        guard case .success(.receipt(let changed)) = self else { return nil }
        return changed
    }

    var count: Int? {
        guard case .success(.count(let count)) = self else { return nil }
        return count
    }

    var recipients: [String]? {
        guard case .success(.recipients(let users)) = self else { return nil }
        return users
    }

    var resends: [String: [String]]? {
        guard case .success(.resends(let due)) = self else { return nil }
        return due
    }

    var apiKey: APIKeyRecord? {
        guard case .success(.apiKey(let key)) = self else { return nil }
        return key
    }
}
