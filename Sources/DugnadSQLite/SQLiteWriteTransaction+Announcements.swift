import DugnadCore
import DugnadProtocol
import GRDB

extension SQLiteWriteTransaction {
    /// Stores the announcement and fixes its audience with one `INSERT … SELECT`, so that
    /// an audience of every user costs one statement, not one per user.
    func announce(_ new: NewAnnouncement) throws -> WriteOutcome {
        // The idempotency key comes first: a retry returns the first announcement even if
        // the request changed in between.
        if let clientID = new.clientID,
            let first = try SQLiteStore.fetchAnnouncement(db, fromID: new.fromID, clientID: clientID)
        {
            return .announcement(first, audience: [], duplicate: true)
        }

        let channelsJSON: String
        switch new.audience {
        case .all:
            channelsJSON = "[]"
        case .channels(let names):
            channelsJSON = try SQLiteStore.encodeJSONArray(names)
            if let missing = try String.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT value FROM json_each(?)
                        WHERE value NOT IN (SELECT name FROM channels)
                        ORDER BY key LIMIT 1
                        """),
                arguments: [channelsJSON])
            {
                throw StoreError(.notFound, "no channel '\(missing)'")
            }
        }

        try db.executeCached(
            sql: """
                INSERT INTO announcements (
                    id, from_id, from_name, title, body, priority, require_ack,
                    audience_kind, audience_channels, client_id, ts, audience_count, current_until)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
                """,
            arguments: [
                new.id, new.fromID, new.fromName, new.title, new.body, new.priority.rawValue, new.requireAck,
                new.audience.storedKind, channelsJSON, new.clientID, new.ts, new.until,
            ])

        // The audience is whoever the hub knows (or the channels' members) at this moment,
        // in this transaction; someone who joins later is part of it only while it is
        // current (`until`, `reachLateRecipient`).
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
        let audience = try String.fetchAll(db.cachedStatement(sql: audienceSQL), arguments: arguments).sorted()
        try db.executeCached(
            sql: "UPDATE announcements SET audience_count = ? WHERE id = ?", arguments: [audience.count, new.id])

        return .announcement(new.stored(audienceCount: audience.count), audience: audience, duplicate: false)
    }

    /// Returns `.count` with the number of users whose delivery was recorded now (the first
    /// time): zero tells the hub that the figures did not change. Every send moves
    /// last_sent_at, so urgent re-sends wait one interval after the latest send, a welcome
    /// included. Users outside the audience are ignored.
    func markDelivered(announcementID: String, userIDs: [String], at: Int64) throws -> WriteOutcome {
        guard !userIDs.isEmpty else { return .count(0) }
        let users = try SQLiteStore.encodeJSONArray(userIDs)
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
    func acknowledge(announcementID: String, userID: String, kind: AckKind, at: Int64) throws -> WriteOutcome {
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
        guard try SQLiteStore.fetchIsInAudience(db, announcementID: announcementID, userID: userID) else {
            throw StoreError(.notFound, "'\(userID)' is not in the audience of announcement '\(announcementID)'")
        }
        return .receipt(changed: false)
    }

    /// Recipients are those who have not acknowledged, or not read where no ack is
    /// required, sorted by user id; the reminder is recorded even when nobody is left.
    func remind(announcementID: String, byUserID: String, at: Int64, notWithinMillis: Int64) throws -> WriteOutcome {
        guard try SQLiteStore.fetchAnnouncement(db, id: announcementID) != nil else {
            throw StoreError(.notFound, "no announcement '\(announcementID)'")
        }
        let last = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT max(at) FROM announcement_reminders WHERE announcement_id = ?"),
            arguments: [announcementID])
        if let refusal = ReminderSpacing.refusal(last: last, at: at, interval: notWithinMillis) { throw refusal }
        let recipients = try String.fetchAll(
            db.cachedStatement(
                sql: """
                    UPDATE announcement_audience SET reminded_count = reminded_count + 1
                    WHERE announcement_id = ?
                        AND (CASE WHEN require_ack = 1 THEN acked_at ELSE read_at END) IS NULL
                    RETURNING user_id
                    """),
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
    func dueUrgentResends(onlineUserIDs: [String], now: Int64, intervalMillis: Int64, maxResends: Int) throws
        -> WriteOutcome
    {
        guard !onlineUserIDs.isEmpty, maxResends > 0 else { return .resends([:]) }
        // The terms `require_ack = 1 AND acked_at IS NULL` match the partial index
        // announcement_audience_unacked (user_id, resend_count): the search visits only
        // the online users' unacknowledged receipts that may still be re-sent. The priority
        // is checked per candidate through the announcement's key (EXISTS), rather than
        // with an IN list, which would make the planner pair every urgent announcement
        // ever posted with every online user.
        let rows = try Row.fetchAll(
            db.cachedStatement(
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
                    """),
            arguments: [now, try SQLiteStore.encodeJSONArray(onlineUserIDs), maxResends, intervalMillis])
        var due: [String: [String]] = [:]
        for row in rows {
            let id: String = try row.decode(String.self, atIndex: 0)
            let user: String = try row.decode(String.self, atIndex: 1)
            due[id, default: []].append(user)
        }
        return .resends(due.mapValues { $0.sorted() })
    }
}

extension SQLiteWriteTransaction {
    /// One `INSERT … SELECT` over the current announcements (the partial index on
    /// current_until); the rows it adds say whose audience grew.
    func reachLateRecipient(userID: String, channel: String?, at: Int64) throws -> WriteOutcome {
        let reached = try String.fetchAll(
            db.cachedStatement(
                sql: """
                    INSERT INTO announcement_audience (announcement_id, user_id, require_ack)
                    SELECT a.id, ?1, a.require_ack FROM announcements a
                    WHERE a.current_until > ?2 AND a.from_id <> ?1
                        AND CASE WHEN ?3 IS NULL THEN a.audience_kind = 'all'
                            ELSE a.audience_kind = 'channels'
                                AND EXISTS (SELECT 1 FROM json_each(a.audience_channels) WHERE value = ?3) END
                    ON CONFLICT DO NOTHING
                    RETURNING announcement_id
                    """),
            arguments: [userID, at, channel])
        var records: [AnnouncementRecord] = []
        for id in reached.sorted() {
            try db.executeCached(
                sql: "UPDATE announcements SET audience_count = audience_count + 1 WHERE id = ?", arguments: [id])
            if let record = try SQLiteStore.fetchAnnouncement(db, id: id) { records.append(record) }
        }
        return .reached(records)
    }
}
