import DugnadCore
import DugnadProtocol
import Foundation
import GRDB

// MARK: - Writes

extension SQLiteStore {
    /// Stores the announcement and fixes its audience with one `INSERT … SELECT`, so that
    /// an audience of every user costs one statement, not one per user.
    static func announce(_ new: NewAnnouncement, _ db: Database) throws -> WriteOutcome {
        // The idempotency key comes first: a retry returns the first announcement even if
        // the request changed in between.
        if let clientID = new.clientID,
            let row = try Row.fetchOne(
                db,
                sql: "SELECT \(announcementColumns) FROM announcements WHERE from_id = ? AND client_id = ?",
                arguments: [new.fromID, clientID])
        {
            return .announcement(try announcementRecord(row), audience: [], duplicate: true)
        }

        let channelsJSON: String
        switch new.audience {
        case .all:
            channelsJSON = "[]"
        case .channels(let names):
            channelsJSON = try encodeJSONArray(names)
            if let missing = try String.fetchOne(
                db,
                sql: """
                    SELECT value FROM json_each(?)
                    WHERE value NOT IN (SELECT name FROM channels)
                    ORDER BY key LIMIT 1
                    """,
                arguments: [channelsJSON])
            {
                throw StoreError(.notFound, "no channel '\(missing)'")
            }
        }

        try db.executeCached(
            sql: """
                INSERT INTO announcements (
                    id, from_id, from_name, title, body, priority, require_ack,
                    audience_kind, audience_channels, client_id, ts, audience_count)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
                """,
            arguments: [
                new.id, new.fromID, new.fromName, new.title, new.body, new.priority.rawValue, new.requireAck,
                new.audience.kind, channelsJSON, new.clientID, new.ts,
            ])

        // The audience is whoever the hub knows (or the channels' members) at this moment,
        // in this transaction: someone who joins later is not part of it.
        let audienceSQL: String
        let arguments: StatementArguments
        switch new.audience {
        case .all:
            audienceSQL = """
                INSERT INTO announcement_audience (announcement_id, user_id, require_ack)
                SELECT ?, id, ? FROM users WHERE id <> ?
                RETURNING user_id
                """
            arguments = [new.id, new.requireAck, new.fromID]
        case .channels:
            audienceSQL = """
                INSERT INTO announcement_audience (announcement_id, user_id, require_ack)
                SELECT DISTINCT ?, user_id, ? FROM memberships
                WHERE channel IN (SELECT value FROM json_each(?)) AND user_id <> ?
                RETURNING user_id
                """
            arguments = [new.id, new.requireAck, channelsJSON, new.fromID]
        }
        let audience = try String.fetchAll(db, sql: audienceSQL, arguments: arguments).sorted()
        try db.executeCached(
            sql: "UPDATE announcements SET audience_count = ? WHERE id = ?", arguments: [audience.count, new.id])

        let record = AnnouncementRecord(
            id: new.id, fromID: new.fromID, fromName: new.fromName, title: new.title, body: new.body,
            priority: new.priority, requireAck: new.requireAck, audience: new.audience, clientID: new.clientID,
            ts: new.ts, audienceCount: audience.count)
        return .announcement(record, audience: audience, duplicate: false)
    }

    /// Returns `.count` with the number of users whose delivery was recorded now (the first
    /// time): zero tells the hub that the figures did not change. Every send moves
    /// last_sent_at, so urgent re-sends wait one interval after the latest send, a welcome
    /// included. Users outside the audience are ignored.
    static func markDelivered(announcementID: String, userIDs: [String], at: Int64, _ db: Database) throws
        -> WriteOutcome
    {
        guard !userIDs.isEmpty else { return .count(0) }
        let users = try encodeJSONArray(userIDs)
        try db.executeCached(
            sql: """
                UPDATE announcement_audience SET delivered_at = ?
                WHERE announcement_id = ? AND user_id IN (SELECT value FROM json_each(?))
                    AND delivered_at IS NULL
                """,
            arguments: [at, announcementID, users])
        let delivered = db.changesCount
        try db.executeCached(
            sql: """
                UPDATE announcement_audience SET last_sent_at = max(coalesce(last_sent_at, ?), ?)
                WHERE announcement_id = ? AND user_id IN (SELECT value FROM json_each(?))
                """,
            arguments: [at, at, announcementID, users])
        return .count(delivered)
    }

    /// A read or an ack is recorded once, at its first time. Either one also records the
    /// delivery if it was missed (whoever read it received it), so that the figures keep
    /// delivered ≥ read ≥ acked.
    static func acknowledge(announcementID: String, userID: String, kind: AckKind, at: Int64, _ db: Database)
        throws -> WriteOutcome
    {
        let sql: String
        switch kind {
        case .ack:
            sql = """
                UPDATE announcement_audience
                SET acked_at = ?1, read_at = coalesce(read_at, ?1), delivered_at = coalesce(delivered_at, ?1)
                WHERE announcement_id = ?2 AND user_id = ?3 AND acked_at IS NULL
                """
        case .read:
            sql = """
                UPDATE announcement_audience
                SET read_at = ?1, delivered_at = coalesce(delivered_at, ?1)
                WHERE announcement_id = ?2 AND user_id = ?3 AND read_at IS NULL
                """
        }
        try db.executeCached(sql: sql, arguments: [at, announcementID, userID])
        if db.changesCount > 0 {
            return .receipt(changed: true)
        }
        guard try fetchIsInAudience(db, announcementID: announcementID, userID: userID) else {
            throw StoreError(.notFound, "'\(userID)' is not in the audience of announcement '\(announcementID)'")
        }
        return .receipt(changed: false)
    }

    /// Recipients are those who have not acknowledged, or not read where no ack is
    /// required, sorted by user id; the reminder is recorded even when nobody is left.
    static func remind(announcementID: String, byUserID: String, at: Int64, _ db: Database) throws -> WriteOutcome {
        guard try fetchAnnouncement(db, id: announcementID) != nil else {
            throw StoreError(.notFound, "no announcement '\(announcementID)'")
        }
        let recipients = try String.fetchAll(
            db,
            sql: """
                UPDATE announcement_audience SET reminded_count = reminded_count + 1
                WHERE announcement_id = ?
                    AND (CASE WHEN require_ack = 1 THEN acked_at ELSE read_at END) IS NULL
                RETURNING user_id
                """,
            arguments: [announcementID]
        ).sorted()
        try db.executeCached(
            sql: """
                INSERT INTO announcement_reminders (announcement_id, by_user_id, at, recipients)
                VALUES (?, ?, ?, ?)
                """,
            arguments: [announcementID, byUserID, at, recipients.count])
        return .recipients(recipients)
    }

    /// One `UPDATE … RETURNING` picks the due rows and records their re-send, so a row
    /// cannot be returned twice for the same send.
    static func dueUrgentResends(
        onlineUserIDs: [String], now: Int64, intervalMillis: Int64, maxResends: Int, _ db: Database
    ) throws -> WriteOutcome {
        guard !onlineUserIDs.isEmpty, maxResends > 0 else { return .resends([:]) }
        // The terms `require_ack = 1 AND acked_at IS NULL` match the partial index
        // announcement_audience_unacked (user_id, resend_count): the search visits only
        // the online users' unacknowledged receipts that may still be re-sent. The priority
        // is checked per candidate through the announcement's key (EXISTS), rather than
        // with an IN list, which would make the planner pair every urgent announcement
        // ever posted with every online user.
        let rows = try Row.fetchAll(
            db,
            sql: """
                UPDATE announcement_audience
                SET last_sent_at = ?1, resend_count = resend_count + 1
                WHERE user_id IN (SELECT value FROM json_each(?2))
                    AND require_ack = 1 AND acked_at IS NULL
                    AND resend_count < ?3
                    AND (last_sent_at IS NULL OR last_sent_at <= ?1 - ?4)
                    AND EXISTS (
                        SELECT 1 FROM announcements a
                        WHERE a.id = announcement_audience.announcement_id AND a.priority = 'urgent')
                RETURNING announcement_id, user_id
                """,
            arguments: [now, try encodeJSONArray(onlineUserIDs), maxResends, intervalMillis])
        var due: [String: [String]] = [:]
        for row in rows {
            let id: String = try row.decode(String.self, atIndex: 0)
            let user: String = try row.decode(String.self, atIndex: 1)
            due[id, default: []].append(user)
        }
        return .resends(due.mapValues { $0.sorted() })
    }
}

// MARK: - Reads

extension SQLiteStore {
    /// The announcement as posted, with its audience size; nil for an unknown id.
    public func announcement(id: String) throws -> AnnouncementRecord? {
        try readingStore("read announcement '\(id)'") { db in
            try Self.fetchAnnouncement(db, id: id)
        }
    }

    /// `audience` is the count fixed at posting; the other figures count receipts.
    public func announcementStats(id: String) throws -> AnnouncementStats? {
        try readingStore("read the figures of announcement '\(id)'") { db in
            guard
                let audience = try Int.fetchOne(
                    db, sql: "SELECT audience_count FROM announcements WHERE id = ?", arguments: [id])
            else { return nil }
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT count(delivered_at) AS delivered, count(read_at) AS read, count(acked_at) AS acked
                    FROM announcement_audience WHERE announcement_id = ?
                    """,
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
        try readingStore("read the audience of announcement '\(announcementID)'") { db in
            try Self.fetchIsInAudience(db, announcementID: announcementID, userID: userID)
        }
    }

    /// Two queries, each answered from a partial index of pending receipts: those still to
    /// acknowledge (oldest first, all of them), then the unread ones that need no ack from
    /// the last 7 days (newest first, at most `recentUnreadLimit`). An unread announcement
    /// that requires an ack is unacknowledged too, so the second list never repeats the
    /// first.
    public func pendingAnnouncements(userID: String, now: Int64) throws -> [UserAnnouncement] {
        try readingStore("read the pending announcements of '\(userID)'") { db in
            let columns = "\(Self.qualifiedAnnouncementColumns), aa.read_at AS user_read_at, aa.acked_at AS user_acked_at"
            let unacknowledged = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(columns)
                    FROM announcement_audience aa JOIN announcements a ON a.id = aa.announcement_id
                    WHERE aa.user_id = ? AND aa.require_ack = 1 AND aa.acked_at IS NULL
                    ORDER BY a.ts, a.id
                    """,
                arguments: [userID])
            let recentUnread = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(columns)
                    FROM announcement_audience aa JOIN announcements a ON a.id = aa.announcement_id
                    WHERE aa.user_id = ? AND aa.require_ack = 0 AND aa.read_at IS NULL AND a.ts >= ?
                    ORDER BY a.ts DESC, a.id DESC
                    LIMIT ?
                    """,
                arguments: [userID, now - Self.recentUnreadMillis, Self.recentUnreadLimit])
            return try (unacknowledged + recentUnread).map { row in
                UserAnnouncement(
                    announcement: try Self.announcementRecord(row),
                    readAt: try row.decode(Int64?.self, forColumn: "user_read_at"),
                    ackedAt: try row.decode(Int64?.self, forColumn: "user_acked_at"))
            }
        }
    }

    /// How far back the welcome lists unread announcements that need no ack (7 days).
    static let recentUnreadMillis: Int64 = 7 * 86_400_000
    /// How many of those the welcome lists at most.
    static let recentUnreadLimit = 50

    /// Runs a read on one of the pool's reader connections, turning any failure into a
    /// `StoreError` (the reads of announcements, keys and engagement share it).
    func readingStore<T>(_ action: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch {
            throw StoreError.mapping(error, doing: action)
        }
    }
}

// MARK: - Row decoding

extension SQLiteStore {
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

    static func fetchAnnouncement(_ db: Database, id: String) throws -> AnnouncementRecord? {
        try Row.fetchOne(db, sql: "SELECT \(announcementColumns) FROM announcements WHERE id = ?", arguments: [id])
            .map(announcementRecord)
    }

    static func fetchIsInAudience(_ db: Database, announcementID: String, userID: String) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: "SELECT EXISTS (SELECT 1 FROM announcement_audience WHERE announcement_id = ? AND user_id = ?)",
            arguments: [announcementID, userID]) ?? false
    }

    static func announcementRecord(_ row: Row) throws -> AnnouncementRecord {
        let rawPriority = try row.decode(String.self, forColumn: "priority")
        guard let priority = Priority(rawValue: rawPriority) else {
            // Unreachable through the CHECK constraint unless the file was edited by hand.
            throw StoreError(.unavailable, "announcement has an unknown priority '\(rawPriority)'")
        }
        let audience: Audience
        switch try row.decode(String.self, forColumn: "audience_kind") {
        case "all":
            audience = .all
        default:
            audience = .channels(try decodeJSONArray(try row.decode(String.self, forColumn: "audience_channels")))
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
            audienceCount: try row.decode(Int.self, forColumn: "audience_count"))
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

extension Audience {
    /// The stored audience_kind.
    fileprivate var kind: String {
        switch self {
        case .all: "all"
        case .channels: "channels"
        }
    }
}
