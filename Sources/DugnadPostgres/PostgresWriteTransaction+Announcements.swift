import DugnadCore
import DugnadProtocol
import PostgresNIO

extension PostgresWriteTransaction {
    /// Stores the announcement and fixes its audience with one `INSERT … SELECT`.
    func announce(_ new: NewAnnouncement) throws -> WriteOutcome {
        // The idempotency key comes first: a retry returns the first announcement even if
        // the request changed in between.
        if let clientID = new.clientID,
            let first = try PostgresStore.fetchAnnouncement(db, fromID: new.fromID, clientID: clientID)
        {
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
                audience_kind, audience_channels, client_id, ts, audience_count, current_until)
            VALUES (\(new.id), \(new.fromID), \(new.fromName), \(new.title), \(new.body), \(new.priority.rawValue),
                \(new.requireAck), \(new.audience.storedKind), \(channels)::text[], \(new.clientID), \(new.ts), 0,
                \(new.until))
            ON CONFLICT (from_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
            """)
        if inserted == 0 {
            guard let clientID = new.clientID,
                let first = try PostgresStore.fetchAnnouncement(db, fromID: new.fromID, clientID: clientID)
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

        return .announcement(new.stored(audienceCount: audience.count), audience: audience, duplicate: false)
    }

    /// `.count` of the users whose delivery was recorded now (the first time). Every send
    /// moves last_sent_at, which the urgent re-sends wait on. Users outside the audience
    /// are ignored.
    func markDelivered(announcementID: String, userIDs: [String], at: Int64) throws -> WriteOutcome {
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
    func acknowledge(announcementID: String, userID: String, kind: AckKind, at: Int64) throws -> WriteOutcome {
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
        guard try PostgresStore.fetchIsInAudience(db, announcementID: announcementID, userID: userID) else {
            throw StoreError(.notFound, "'\(userID)' is not in the audience of announcement '\(announcementID)'")
        }
        return .receipt(changed: false)
    }

    /// Recipients are those who have not acknowledged (or not read, where no ack is
    /// required), sorted by user id; the reminder is recorded even when nobody is left.
    func remind(announcementID: String, byUserID: String, at: Int64, notWithinMillis: Int64) throws -> WriteOutcome {
        // The announcement's row lock makes two nodes' reminders take turns, so the second
        // sees the first one's time.
        guard
            try db.value("SELECT id FROM announcements WHERE id = \(announcementID) FOR UPDATE", as: String.self) != nil
        else {
            throw StoreError(.notFound, "no announcement '\(announcementID)'")
        }
        let last = try db.value(
            "SELECT max(at) FROM announcement_reminders WHERE announcement_id = \(announcementID)", as: Int64.self)
        if let refusal = ReminderSpacing.refusal(last: last, at: at, interval: notWithinMillis) { throw refusal }
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
    func dueUrgentResends(onlineUserIDs: [String], now: Int64, intervalMillis: Int64, maxResends: Int) throws
        -> WriteOutcome
    {
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

extension PostgresWriteTransaction {
    /// One `INSERT … SELECT` over the current announcements (the partial index on
    /// current_until); ON CONFLICT makes a concurrent add on another node harmless.
    func reachLateRecipient(userID: String, channel: String?, at: Int64) throws -> WriteOutcome {
        let reached = try db.column(
            """
            INSERT INTO announcement_audience (announcement_id, user_id, require_ack)
            SELECT a.id, \(userID), a.require_ack FROM announcements a
            WHERE a.current_until > \(at) AND a.from_id <> \(userID)
                AND CASE WHEN \(channel)::text IS NULL THEN a.audience_kind = 'all'
                    ELSE a.audience_kind = 'channels' AND \(channel)::text = ANY (a.audience_channels) END
            ON CONFLICT DO NOTHING
            RETURNING announcement_id
            """, as: String.self)
        var records: [AnnouncementRecord] = []
        for id in reached.sorted() {
            try db.query("UPDATE announcements SET audience_count = audience_count + 1 WHERE id = \(id)")
            if let record = try PostgresStore.fetchAnnouncement(db, id: id) { records.append(record) }
        }
        return .reached(records)
    }
}
