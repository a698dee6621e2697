import DugnadCore
import DugnadProtocol
import PostgresNIO

extension PostgresWriteTransaction {
    /// As the SQLite engine's. The existing row is locked first (a grant racing a `leave`
    /// on another node then sees its outcome); a join racing the insert meets ON CONFLICT.
    /// Two statements, not one with a locking CTE: a row the same statement updates is
    /// skipped by its own FOR UPDATE, which would hide the grant found before.
    func grantMembership(userID: String, channel name: String, at: Int64) throws -> WriteOutcome {
        guard let channel = try PostgresStore.fetchChannel(db, named: name) else {
            throw StoreError(.notFound, "no channel '\(name)'")
        }
        if let row = try db.row(
            """
            SELECT read_seq, granted_at FROM memberships WHERE user_id = \(userID) AND channel = \(name) FOR UPDATE
            """)
        {
            let readSeq: Int64 = try row.decode("read_seq")
            guard try row.decode("granted_at", as: Int64?.self) == nil else {
                return .membership(channel: channel, readSeq: readSeq, created: false)
            }
            try db.query("UPDATE memberships SET granted_at = \(at) WHERE user_id = \(userID) AND channel = \(name)")
            return .membership(channel: channel, readSeq: readSeq, created: true)
        }
        guard
            let readSeq = try db.value(
                """
                INSERT INTO memberships (user_id, channel, read_seq, joined_at, granted_at)
                VALUES (\(userID), \(name), \(channel.lastSeq), \(at), \(at))
                ON CONFLICT (user_id, channel) DO UPDATE SET granted_at = excluded.granted_at
                RETURNING read_seq
                """, as: Int64.self)
        else {
            throw StoreError(.unavailable, "a grant statement returned no row")
        }
        return .membership(channel: channel, readSeq: readSeq, created: true)
    }

    func revokeMembership(userID: String, channel: String, keepGranted: Bool) throws -> WriteOutcome {
        .count(
            try db.execute(
                """
                DELETE FROM memberships
                WHERE user_id = \(userID) AND channel = \(channel) AND (NOT \(keepGranted) OR granted_at IS NULL)
                """))
    }

    func ban(_ ban: BanRecord) throws -> WriteOutcome {
        try db.query(
            """
            INSERT INTO bans (user_id, banned_at, banned_by, reason)
            VALUES (\(ban.userID), \(ban.bannedAt), \(ban.bannedBy), \(ban.reason))
            ON CONFLICT (user_id) DO UPDATE SET
                banned_at = excluded.banned_at, banned_by = excluded.banned_by, reason = excluded.reason
            """)
        return .done
    }

    func unban(userID: String) throws -> WriteOutcome {
        .count(try db.execute("DELETE FROM bans WHERE user_id = \(userID)"))
    }

    func appendAudit(_ entry: AuditEntry) throws {
        try db.query(
            """
            INSERT INTO audit (id, at, actor, action, target, detail)
            VALUES (\(entry.id), \(entry.at), \(entry.actor), \(entry.action), \(entry.target), \(entry.detailJSON))
            """)
    }
}
