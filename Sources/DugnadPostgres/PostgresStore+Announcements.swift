import DugnadCore
import DugnadProtocol
import PostgresNIO

// MARK: - Writes

extension PostgresStore {
    /// Stores the announcement and fixes its audience with one `INSERT … SELECT`.
    func announce(_ new: NewAnnouncement, _ db: BlockingConnection) throws -> WriteOutcome {
        // The idempotency key comes first: a retry returns the first announcement even if
        // the request changed in between.
        if let clientID = new.clientID, let first = try fetchAnnouncement(db, fromID: new.fromID, clientID: clientID) {
            return .announcement(first, audience: [], duplicate: true)
        }

        let channels: [String]
        switch new.audience {
        case .all:
            channels = []
        case .channels(let names):
            channels = names
            if let missing = try db.value(
                """
                SELECT t.name FROM unnest(\(names)::text[]) WITH ORDINALITY AS t (name, position)
                WHERE NOT EXISTS (SELECT 1 FROM channels c WHERE c.name = t.name)
                ORDER BY t.position LIMIT 1
                """, as: String.self)
            {
                throw StoreError(.notFound, "no channel '\(missing)'")
            }
        }

        // A concurrent retry on another node: the insert waits for it, finds the key taken
        // and inserts nothing; the first announcement is the answer.
        let inserted = try db.execute(
            """
            INSERT INTO announcements (
                id, from_id, from_name, title, body, priority, require_ack,
                audience_kind, audience_channels, client_id, ts, audience_count)
            VALUES (\(new.id), \(new.fromID), \(new.fromName), \(new.title), \(new.body), \(new.priority.rawValue),
                \(new.requireAck), \(new.audience.kind), \(channels)::text[], \(new.clientID), \(new.ts), 0)
            ON CONFLICT (from_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
            """)
        if inserted == 0 {
            guard let clientID = new.clientID,
                let first = try fetchAnnouncement(db, fromID: new.fromID, clientID: clientID)
            else {
                throw StoreError(.conflict, "announcement '\(new.id)' was neither stored nor found")
            }
            throw DiscardedWrites(outcome: .announcement(first, audience: [], duplicate: true))
        }

        // The audience is whoever the hub knows (or the channels' members) at this moment,
        // in this transaction: someone who joins later is not part of it.
        let audienceQuery: PostgresQuery
        switch new.audience {
        case .all:
            audienceQuery = """
                INSERT INTO announcement_audience (announcement_id, user_id, require_ack)
                SELECT \(new.id), id, \(new.requireAck) FROM users WHERE id <> \(new.fromID)
                RETURNING user_id
                """
        case .channels:
            audienceQuery = """
                INSERT INTO announcement_audience (announcement_id, user_id, require_ack)
                SELECT DISTINCT \(new.id), user_id, \(new.requireAck) FROM memberships
                WHERE channel = ANY (\(channels)::text[]) AND user_id <> \(new.fromID)
                RETURNING user_id
                """
        }
        let audience = try db.column(audienceQuery, as: String.self).sorted()
        try db.query("UPDATE announcements SET audience_count = \(Int64(audience.count)) WHERE id = \(new.id)")

        let record = AnnouncementRecord(
            id: new.id, fromID: new.fromID, fromName: new.fromName, title: new.title, body: new.body,
            priority: new.priority, requireAck: new.requireAck, audience: new.audience, clientID: new.clientID,
            ts: new.ts, audienceCount: audience.count)
        return .announcement(record, audience: audience, duplicate: false)
    }

    /// `.count` of the users whose delivery was recorded now (the first time). Every send
    /// moves last_sent_at, which the urgent re-sends wait on. Users outside the audience
    /// are ignored.
    func markDelivered(announcementID: String, userIDs: [String], at: Int64, _ db: BlockingConnection) throws
        -> WriteOutcome
    {
        guard !userIDs.isEmpty else { return .count(0) }
        let delivered = try db.execute(
            """
            UPDATE announcement_audience SET delivered_at = \(at)
            WHERE announcement_id = \(announcementID) AND user_id = ANY (\(userIDs)::text[]) AND delivered_at IS NULL
            """)
        try db.query(
            """
            UPDATE announcement_audience SET last_sent_at = greatest(coalesce(last_sent_at, \(at)), \(at))
            WHERE announcement_id = \(announcementID) AND user_id = ANY (\(userIDs)::text[])
            """)
        return .count(delivered)
    }

    /// A read or an ack is recorded once, at its first time; either one also records a
    /// missed delivery, so that delivered ≥ read ≥ acked.
    func acknowledge(announcementID: String, userID: String, kind: AckKind, at: Int64, _ db: BlockingConnection)
        throws -> WriteOutcome
    {
        let query: PostgresQuery
        switch kind {
        case .ack:
            query = """
                UPDATE announcement_audience
                SET acked_at = \(at), read_at = coalesce(read_at, \(at)), delivered_at = coalesce(delivered_at, \(at))
                WHERE announcement_id = \(announcementID) AND user_id = \(userID) AND acked_at IS NULL
                """
        case .read:
            query = """
                UPDATE announcement_audience
                SET read_at = \(at), delivered_at = coalesce(delivered_at, \(at))
                WHERE announcement_id = \(announcementID) AND user_id = \(userID) AND read_at IS NULL
                """
        }
        if try db.execute(query) > 0 {
            return .receipt(changed: true)
        }
        guard try fetchIsInAudience(db, announcementID: announcementID, userID: userID) else {
            throw StoreError(.notFound, "'\(userID)' is not in the audience of announcement '\(announcementID)'")
        }
        return .receipt(changed: false)
    }

    /// Recipients are those who have not acknowledged (or not read, where no ack is
    /// required), sorted by user id; the reminder is recorded even when nobody is left.
    func remind(announcementID: String, byUserID: String, at: Int64, _ db: BlockingConnection) throws -> WriteOutcome {
        guard try fetchAnnouncement(db, id: announcementID) != nil else {
            throw StoreError(.notFound, "no announcement '\(announcementID)'")
        }
        let recipients = try db.column(
            """
            UPDATE announcement_audience SET reminded_count = reminded_count + 1
            WHERE announcement_id = \(announcementID)
                AND (CASE WHEN require_ack THEN acked_at ELSE read_at END) IS NULL
            RETURNING user_id
            """, as: String.self
        ).sorted()
        try db.query(
            """
            INSERT INTO announcement_reminders (announcement_id, by_user_id, at, recipients)
            VALUES (\(announcementID), \(byUserID), \(at), \(Int64(recipients.count)))
            """)
        return .recipients(recipients)
    }

    /// One `UPDATE … RETURNING` picks the due rows and records their re-send. Two nodes
    /// running it at once for the same users: the second waits for the first's row locks
    /// and re-checks the conditions, so a row is returned once per interval.
    func dueUrgentResends(
        onlineUserIDs: [String], now: Int64, intervalMillis: Int64, maxResends: Int, _ db: BlockingConnection
    ) throws -> WriteOutcome {
        guard !onlineUserIDs.isEmpty, maxResends > 0 else { return .resends([:]) }
        let rows = try db.rows(
            """
            UPDATE announcement_audience aa
            SET last_sent_at = \(now), resend_count = aa.resend_count + 1
            WHERE aa.user_id = ANY (\(onlineUserIDs)::text[])
                AND aa.require_ack AND aa.acked_at IS NULL
                AND aa.resend_count < \(Int64(maxResends))
                AND (aa.last_sent_at IS NULL OR aa.last_sent_at <= \(now - intervalMillis))
                AND EXISTS (
                    SELECT 1 FROM announcements a WHERE a.id = aa.announcement_id AND a.priority = 'urgent')
            RETURNING aa.announcement_id, aa.user_id
            """)
        var due: [String: [String]] = [:]
        for row in rows {
            let id: String = try row.decode("announcement_id")
            due[id, default: []].append(try row.decode("user_id"))
        }
        return .resends(due.mapValues { $0.sorted() })
    }
}

// MARK: - Reads

extension PostgresStore {
    public func announcement(id: String) throws -> AnnouncementRecord? {
        try reading("read announcement '\(id)'") { db in
            try fetchAnnouncement(db, id: id)
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
            try fetchIsInAudience(db, announcementID: announcementID, userID: userID)
        }
    }

    /// Those still to acknowledge (oldest first, all of them), then the unread ones that
    /// need no ack from the last 7 days (newest first, at most `recentUnreadLimit`).
    public func pendingAnnouncements(userID: String, now: Int64) throws -> [UserAnnouncement] {
        try reading("read the pending announcements of '\(userID)'") { db in
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
                    AND a.ts >= \(now - Self.recentUnreadMillis)
                ORDER BY a.ts DESC, a.id DESC
                LIMIT \(Int64(Self.recentUnreadLimit))
                """)
            return try (unacknowledged + recentUnread).map { row in
                UserAnnouncement(
                    announcement: try Self.announcementRecord(row), readAt: try row.decode("user_read_at"),
                    ackedAt: try row.decode("user_acked_at"))
            }
        }
    }

    /// How far back the welcome lists unread announcements that need no ack (7 days).
    static let recentUnreadMillis: Int64 = 7 * 86_400_000
    /// How many of those the welcome lists at most.
    static let recentUnreadLimit = 50
}

// MARK: - Row decoding

extension PostgresStore {
    static let announcementColumns = """
        id, from_id, from_name, title, body, priority, require_ack, audience_kind, audience_channels, \
        client_id, ts, audience_count
        """
    /// The same columns through the alias `a`, for joins.
    static let qualifiedAnnouncementColumns = """
        a.id AS id, a.from_id AS from_id, a.from_name AS from_name, a.title AS title, a.body AS body, \
        a.priority AS priority, a.require_ack AS require_ack, a.audience_kind AS audience_kind, \
        a.audience_channels AS audience_channels, a.client_id AS client_id, a.ts AS ts, \
        a.audience_count AS audience_count
        """

    func fetchAnnouncement(_ db: BlockingConnection, id: String) throws -> AnnouncementRecord? {
        try db.row("SELECT \(unescaped: Self.announcementColumns) FROM announcements WHERE id = \(id)")
            .map(Self.announcementRecord)
    }

    func fetchAnnouncement(_ db: BlockingConnection, fromID: String, clientID: String) throws -> AnnouncementRecord? {
        try db.row(
            """
            SELECT \(unescaped: Self.announcementColumns) FROM announcements
            WHERE from_id = \(fromID) AND client_id = \(clientID)
            """
        ).map(Self.announcementRecord)
    }

    func fetchIsInAudience(_ db: BlockingConnection, announcementID: String, userID: String) throws -> Bool {
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
        let audience: Audience
        switch try row.decode("audience_kind", as: String.self) {
        case "all":
            audience = .all
        default:
            audience = .channels(try row.decode("audience_channels"))
        }
        return AnnouncementRecord(
            id: try row.decode("id"), fromID: try row.decode("from_id"), fromName: try row.decode("from_name"),
            title: try row.decode("title"), body: try row.decode("body"), priority: priority,
            requireAck: try row.decode("require_ack"), audience: audience, clientID: try row.decode("client_id"),
            ts: try row.decode("ts"), audienceCount: Int(try row.decode("audience_count", as: Int64.self)))
    }
}

extension Audience {
    /// The stored audience_kind.
    fileprivate var kind: String {
        switch self {
        case .all: "all"
        case .channels: "channels"
        }
    }
}
