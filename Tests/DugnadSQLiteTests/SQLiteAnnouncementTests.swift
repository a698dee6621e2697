import DugnadProtocol
import Foundation
import GRDB
import Testing

@testable import DugnadCore
@testable import DugnadSQLite

/// Announcements in the SQLite store, each test on a fresh database file: the checks not
/// yet shared. Audience, receipts, reminders, urgent re-sends, users and API keys run on
/// SQLite and PostgreSQL alike in `StoreBehaviour` (DugnadPostgresTests).
@Suite struct SQLiteAnnouncementTests {
    // MARK: - Audience

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
