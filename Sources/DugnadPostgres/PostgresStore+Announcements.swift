import DugnadCore
import DugnadProtocol
import PostgresNIO

extension PostgresStore {
    public func announcement(id: String) throws -> AnnouncementRecord? {
        try reading("read announcement '\(id)'") { db in
            try Self.fetchAnnouncement(db, id: id)
        }
    }

    /// `audience` is the count fixed at posting; the other figures count receipts.
    public func announcementStats(id: String) throws -> AnnouncementStats? {
        try reading("read the figures of announcement '\(id)'") { db in
            guard let audience = try db.value("SELECT audience_count FROM announcements WHERE id = \(id)", as: Int64.self)
            else { return nil }
            let row = try db.row(
                """
                SELECT count(delivered_at) AS delivered, count(read_at) AS read, count(acked_at) AS acked
                FROM announcement_audience WHERE announcement_id = \(id)
                """)
            return AnnouncementStats(
                audience: Int(audience),
                delivered: Int(try row?.decode("delivered", as: Int64.self) ?? 0),
                read: Int(try row?.decode("read", as: Int64.self) ?? 0),
                acked: Int(try row?.decode("acked", as: Int64.self) ?? 0))
        }
    }

    public func isInAudience(announcementID: String, userID: String) throws -> Bool {
        try reading("read the audience of announcement '\(announcementID)'") { db in
            try Self.fetchIsInAudience(db, announcementID: announcementID, userID: userID)
        }
    }

    /// Those still to acknowledge (oldest first, all of them), then the unread ones that
    /// need no ack from the last 7 days (newest first, at most `UserAnnouncement.recentUnreadLimit`).
    public func pendingAnnouncements(userID: String, now: Int64) throws -> [UserAnnouncement] {
        try reading("read the pending announcements of '\(userID)'") { db in
            try Self.fetchPendingAnnouncements(db, userID: userID, now: now)
        }
    }

    static func fetchPendingAnnouncements(_ db: BlockingConnection, userID: String, now: Int64) throws
        -> [UserAnnouncement]
    {
        let columns = "\(Self.qualifiedAnnouncementColumns), aa.read_at AS user_read_at, aa.acked_at AS user_acked_at"
        let unacknowledged = try db.rows(
            """
            SELECT \(unescaped: columns)
            FROM announcement_audience aa JOIN announcements a ON a.id = aa.announcement_id
            WHERE aa.user_id = \(userID) AND aa.require_ack AND aa.acked_at IS NULL
            ORDER BY a.ts, a.id
            """)
        let recentUnread = try db.rows(
            """
            SELECT \(unescaped: columns)
            FROM announcement_audience aa JOIN announcements a ON a.id = aa.announcement_id
            WHERE aa.user_id = \(userID) AND NOT aa.require_ack AND aa.read_at IS NULL
                AND a.ts >= \(now - UserAnnouncement.recentUnreadMillis)
            ORDER BY a.ts DESC, a.id DESC
            LIMIT \(Int64(UserAnnouncement.recentUnreadLimit))
            """)
        return try (unacknowledged + recentUnread).map { row in
            UserAnnouncement(
                announcement: try Self.announcementRecord(row), readAt: try row.decode("user_read_at"),
                ackedAt: try row.decode("user_acked_at"))
        }
    }

    public func receivedAnnouncements(userID: String, beforeID: String?, limit: Int) throws
        -> (announcements: [UserAnnouncement], hasMore: Bool)
    {
        let page = KeysetPage(limit: limit)
        return try reading("read the announcements '\(userID)' received") { db in
            page.page(
                fromFetched: try db.rows(
                    """
                    SELECT \(unescaped: Self.qualifiedAnnouncementColumns), aa.read_at AS user_read_at,
                        aa.acked_at AS user_acked_at
                    FROM announcement_audience aa JOIN announcements a ON a.id = aa.announcement_id
                    WHERE aa.user_id = \(userID) AND (\(beforeID)::text IS NULL OR aa.announcement_id < \(beforeID)::text)
                    ORDER BY aa.announcement_id DESC LIMIT \(Int64(page.fetchLimit))
                    """
                ).map { row in
                    UserAnnouncement(
                        announcement: try Self.announcementRecord(row), readAt: try row.decode("user_read_at"),
                        ackedAt: try row.decode("user_acked_at"))
                })
        }
    }

    public func announcements(authorID: String?, beforeID: String?, limit: Int) throws
        -> (announcements: [AnnouncementRecord], hasMore: Bool)
    {
        let page = KeysetPage(limit: limit)
        return try reading("read the announcements") { db in
            page.page(
                fromFetched: try db.rows(
                    """
                    SELECT \(unescaped: Self.announcementColumns) FROM announcements
                    WHERE (\(authorID)::text IS NULL OR from_id = \(authorID)::text)
                        AND (\(beforeID)::text IS NULL OR id < \(beforeID)::text)
                    ORDER BY id DESC LIMIT \(Int64(page.fetchLimit))
                    """
                ).map(Self.announcementRecord))
        }
    }
}

// MARK: - Row decoding

extension PostgresStore {
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

    static func fetchAnnouncement(_ db: BlockingConnection, id: String) throws -> AnnouncementRecord? {
        try db.row("SELECT \(unescaped: Self.announcementColumns) FROM announcements WHERE id = \(id)")
            .map(announcementRecord)
    }

    static func fetchAnnouncement(_ db: BlockingConnection, fromID: String, clientID: String) throws -> AnnouncementRecord? {
        try db.row(
            """
            SELECT \(unescaped: Self.announcementColumns) FROM announcements
            WHERE from_id = \(fromID) AND client_id = \(clientID)
            """
        ).map(announcementRecord)
    }

    static func fetchIsInAudience(_ db: BlockingConnection, announcementID: String, userID: String) throws -> Bool {
        try db.value(
            """
            SELECT EXISTS (
                SELECT 1 FROM announcement_audience WHERE announcement_id = \(announcementID) AND user_id = \(userID))
            """, as: Bool.self) ?? false
    }

    static func announcementRecord(_ row: PostgresRandomAccessRow) throws -> AnnouncementRecord {
        let rawPriority: String = try row.decode("priority")
        guard let priority = Priority(rawValue: rawPriority) else {
            // Unreachable through the CHECK constraint.
            throw StoreError(.unavailable, "announcement has an unknown priority '\(rawPriority)'")
        }
        let audience = try Audience(storedKind: try row.decode("audience_kind")) {
            try row.decode("audience_channels")
        }
        return AnnouncementRecord(
            id: try row.decode("id"), fromID: try row.decode("from_id"), fromName: try row.decode("from_name"),
            title: try row.decode("title"), body: try row.decode("body"), priority: priority,
            requireAck: try row.decode("require_ack"), audience: audience, clientID: try row.decode("client_id"),
            ts: try row.decode("ts"), audienceCount: Int(try row.decode("audience_count", as: Int64.self)),
            until: try row.decode("current_until", as: Int64?.self))
    }
}

extension PostgresStore {
    public func announcementRecipients(id: String, state: ReceiptState, afterUserID: String?, limit: Int) throws
        -> (recipients: [AnnouncementRecipient], hasMore: Bool)
    {
        try reading("read the receipts of announcement '\(id)'") { db in
            // The primary key (announcement_id, user_id) gives the page in id order ("C"
            // collation: bytes, as in SQLite).
            let rows = try db.rows(
                """
                SELECT r.user_id AS id, coalesce(u.name, r.user_id) AS name
                FROM announcement_audience r LEFT JOIN users u ON u.id = r.user_id
                WHERE r.announcement_id = \(id) AND (\(afterUserID)::text IS NULL OR r.user_id > \(afterUserID))
                    AND CASE \(state.rawValue) WHEN 'unread' THEN r.read_at IS NULL ELSE r.acked_at IS NULL END
                ORDER BY r.user_id LIMIT \(limit + 1)
                """)
            let recipients = try rows.prefix(limit).map { row in
                AnnouncementRecipient(id: try row.decode("id", as: String.self), name: try row.decode("name", as: String.self))
            }
            return (recipients, rows.count > limit)
        }
    }
}
