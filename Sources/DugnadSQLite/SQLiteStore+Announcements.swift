import DugnadCore
import DugnadProtocol
import Foundation
import GRDB

extension SQLiteStore {
    /// The announcement as posted, with its audience size; nil for an unknown id.
    public func announcement(id: String) throws -> AnnouncementRecord? {
        try reading("read announcement '\(id)'") { db in
            try Self.fetchAnnouncement(db, id: id)
        }
    }

    /// `audience` is the count fixed at posting; the other figures count receipts.
    public func announcementStats(id: String) throws -> AnnouncementStats? {
        try reading("read the figures of announcement '\(id)'") { db in
            guard
                let audience = try Int.fetchOne(
                    db.cachedStatement(sql: "SELECT audience_count FROM announcements WHERE id = ?"), arguments: [id])
            else { return nil }
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT count(delivered_at) AS delivered, count(read_at) AS read, count(acked_at) AS acked
                        FROM announcement_audience WHERE announcement_id = ?
                        """),
                arguments: [id])
            return AnnouncementStats(
                audience: audience,
                delivered: try row?.decode(Int.self, forColumn: "delivered") ?? 0,
                read: try row?.decode(Int.self, forColumn: "read") ?? 0,
                acked: try row?.decode(Int.self, forColumn: "acked") ?? 0)
        }
    }

    /// Whether the user was in the audience fixed at posting (never for the author).
    public func isInAudience(announcementID: String, userID: String) throws -> Bool {
        try reading("read the audience of announcement '\(announcementID)'") { db in
            try Self.fetchIsInAudience(db, announcementID: announcementID, userID: userID)
        }
    }

    /// Two queries, each answered from a partial index of pending receipts: those still to
    /// acknowledge (oldest first, all of them), then the unread ones that need no ack from
    /// the last 7 days (newest first, at most `UserAnnouncement.recentUnreadLimit`). An unread announcement
    /// that requires an ack is unacknowledged too, so the second list never repeats the
    /// first.
    public func pendingAnnouncements(userID: String, now: Int64) throws -> [UserAnnouncement] {
        try reading("read the pending announcements of '\(userID)'") { db in
            try Self.fetchPendingAnnouncements(db, userID: userID, now: now)
        }
    }

    static func fetchPendingAnnouncements(_ db: Database, userID: String, now: Int64) throws -> [UserAnnouncement] {
        let columns = "\(Self.qualifiedAnnouncementColumns), aa.read_at AS user_read_at, aa.acked_at AS user_acked_at"
        let unacknowledged = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT \(columns)
                    FROM announcement_audience aa JOIN announcements a ON a.id = aa.announcement_id
                    WHERE aa.user_id = ? AND aa.require_ack = 1 AND aa.acked_at IS NULL
                    ORDER BY a.ts, a.id
                    """),
            arguments: [userID])
        let recentUnread = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT \(columns)
                    FROM announcement_audience aa JOIN announcements a ON a.id = aa.announcement_id
                    WHERE aa.user_id = ? AND aa.require_ack = 0 AND aa.read_at IS NULL AND a.ts >= ?
                    ORDER BY a.ts DESC, a.id DESC
                    LIMIT ?
                    """),
            arguments: [userID, now - UserAnnouncement.recentUnreadMillis, UserAnnouncement.recentUnreadLimit])
        return try (unacknowledged + recentUnread).map { row in
            UserAnnouncement(
                announcement: try Self.announcementRecord(row),
                readAt: try row.decode(Int64?.self, forColumn: "user_read_at"),
                ackedAt: try row.decode(Int64?.self, forColumn: "user_acked_at"))
        }
    }

    public func receivedAnnouncements(userID: String, beforeID: String?, limit: Int) throws
        -> (announcements: [UserAnnouncement], hasMore: Bool)
    {
        let page = KeysetPage(limit: limit)
        return try reading("read the announcements '\(userID)' received") { db in
            page.page(
                fromFetched: try Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT \(Self.qualifiedAnnouncementColumns), aa.read_at AS user_read_at, aa.acked_at AS user_acked_at
                            FROM announcement_audience aa JOIN announcements a ON a.id = aa.announcement_id
                            WHERE aa.user_id = ? AND (? IS NULL OR aa.announcement_id < ?)
                            ORDER BY aa.announcement_id DESC LIMIT ?
                            """),
                    arguments: [userID, beforeID, beforeID, page.fetchLimit]
                ).map { row in
                    UserAnnouncement(
                        announcement: try Self.announcementRecord(row),
                        readAt: try row.decode(Int64?.self, forColumn: "user_read_at"),
                        ackedAt: try row.decode(Int64?.self, forColumn: "user_acked_at"))
                })
        }
    }

    public func announcements(authorID: String?, beforeID: String?, limit: Int) throws
        -> (announcements: [AnnouncementRecord], hasMore: Bool)
    {
        let page = KeysetPage(limit: limit)
        return try reading("read the announcements") { db in
            page.page(
                fromFetched: try Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT \(Self.announcementColumns) FROM announcements
                            WHERE (? IS NULL OR from_id = ?) AND (? IS NULL OR id < ?)
                            ORDER BY id DESC LIMIT ?
                            """),
                    arguments: [authorID, authorID, beforeID, beforeID, page.fetchLimit]
                ).map(Self.announcementRecord))
        }
    }
}

// MARK: - Row decoding

extension SQLiteStore {
    static let announcementColumns = """
        id, from_id, from_name, title, body, priority, require_ack, audience_kind, audience_channels, \
        client_id, ts, audience_count, current_until
        """
    /// The same columns through the alias `a`, for joins.
    static let qualifiedAnnouncementColumns = """
        a.id AS id, a.from_id AS from_id, a.from_name AS from_name, a.title AS title, a.body AS body, \
        a.priority AS priority, a.require_ack AS require_ack, a.audience_kind AS audience_kind, \
        a.audience_channels AS audience_channels, a.client_id AS client_id, a.ts AS ts, \
        a.audience_count AS audience_count, a.current_until AS current_until
        """

    static func fetchAnnouncement(_ db: Database, id: String) throws -> AnnouncementRecord? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(announcementColumns) FROM announcements WHERE id = ?"), arguments: [id]
        )
        .map(announcementRecord)
    }

    static func fetchAnnouncement(_ db: Database, fromID: String, clientID: String) throws -> AnnouncementRecord? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(announcementColumns) FROM announcements WHERE from_id = ? AND client_id = ?"),
            arguments: [fromID, clientID]
        ).map(announcementRecord)
    }

    static func fetchIsInAudience(_ db: Database, announcementID: String, userID: String) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(
                sql: "SELECT EXISTS (SELECT 1 FROM announcement_audience WHERE announcement_id = ? AND user_id = ?)"),
            arguments: [announcementID, userID]) ?? false
    }

    static func announcementRecord(_ row: Row) throws -> AnnouncementRecord {
        let rawPriority = try row.decode(String.self, forColumn: "priority")
        guard let priority = Priority(rawValue: rawPriority) else {
            // Unreachable through the CHECK constraint unless the file was edited by hand.
            throw StoreError(.unavailable, "announcement has an unknown priority '\(rawPriority)'")
        }
        let audience = try Audience(storedKind: try row.decode(String.self, forColumn: "audience_kind")) {
            try decodeJSONArray(try row.decode(String.self, forColumn: "audience_channels"))
        }
        return AnnouncementRecord(
            id: try row.decode(String.self, forColumn: "id"),
            fromID: try row.decode(String.self, forColumn: "from_id"),
            fromName: try row.decode(String.self, forColumn: "from_name"),
            title: try row.decode(String.self, forColumn: "title"),
            body: try row.decode(String.self, forColumn: "body"),
            priority: priority,
            requireAck: try row.decode(Bool.self, forColumn: "require_ack"),
            audience: audience,
            clientID: try row.decode(String?.self, forColumn: "client_id"),
            ts: try row.decode(Int64.self, forColumn: "ts"),
            audienceCount: try row.decode(Int.self, forColumn: "audience_count"),
            until: try row.decode(Int64?.self, forColumn: "current_until"))
    }

    /// JSON array text of strings, for columns and for `json_each` parameters (a list of
    /// any length in one bound value).
    static func encodeJSONArray(_ values: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
    }

    static func decodeJSONArray(_ text: String) throws -> [String] {
        do {
            return try JSONDecoder().decode([String].self, from: Data(text.utf8))
        } catch {
            throw StoreError(.unavailable, "unreadable list '\(text)' in the database")
        }
    }
}

extension SQLiteStore {
    public func announcementRecipients(id: String, state: ReceiptState, afterUserID: String?, limit: Int) throws
        -> (recipients: [AnnouncementRecipient], hasMore: Bool)
    {
        try reading("read the receipts of announcement '\(id)'") { db in
            // The primary key (announcement_id, user_id) gives the page in id order.
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT r.user_id AS id, coalesce(u.name, r.user_id) AS name
                        FROM announcement_audience r LEFT JOIN users u ON u.id = r.user_id
                        WHERE r.announcement_id = ?1 AND (?2 IS NULL OR r.user_id > ?2)
                            AND CASE ?3 WHEN 'unread' THEN r.read_at IS NULL ELSE r.acked_at IS NULL END
                        ORDER BY r.user_id LIMIT ?4
                        """),
                arguments: [id, afterUserID, state.rawValue, limit + 1])
            let recipients = try rows.prefix(limit).map { row in
                AnnouncementRecipient(
                    id: try row.decode(String.self, forColumn: "id"), name: try row.decode(String.self, forColumn: "name"))
            }
            return (recipients, rows.count > limit)
        }
    }
}
