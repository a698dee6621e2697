import DugnadCore
import DugnadProtocol
import GRDB

extension SQLiteWriteTransaction {
    /// A new member starts with everything read, as one who joins; a member who had
    /// joined keeps its read position and is now granted.
    func grantMembership(userID: String, channel name: String, at: Int64) throws -> WriteOutcome {
        guard let channel = try SQLiteStore.fetchChannel(db, named: name) else {
            throw StoreError(.notFound, "no channel '\(name)'")
        }
        if let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT read_seq, granted_at FROM memberships WHERE user_id = ? AND channel = ?"),
            arguments: [userID, name])
        {
            let readSeq = try row.decode(Int64.self, forColumn: "read_seq")
            guard try row.decode(Int64?.self, forColumn: "granted_at") == nil else {
                return .membership(channel: channel, readSeq: readSeq, created: false)
            }
            try db.executeCached(
                sql: "UPDATE memberships SET granted_at = ? WHERE user_id = ? AND channel = ?",
                arguments: [at, userID, name])
            return .membership(channel: channel, readSeq: readSeq, created: true)
        }
        try db.executeCached(
            sql: "INSERT INTO memberships (user_id, channel, read_seq, joined_at, granted_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [userID, name, channel.lastSeq, at, at])
        return .membership(channel: channel, readSeq: channel.lastSeq, created: true)
    }

    func revokeMembership(userID: String, channel: String, keepGranted: Bool) throws -> WriteOutcome {
        try db.executeCached(
            sql: "DELETE FROM memberships WHERE user_id = ? AND channel = ? AND (? = 0 OR granted_at IS NULL)",
            arguments: [userID, channel, keepGranted])
        return .count(db.changesCount)
    }

    func ban(_ ban: BanRecord) throws -> WriteOutcome {
        try db.executeCached(
            sql: """
                INSERT INTO bans (user_id, banned_at, banned_by, reason) VALUES (?, ?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET
                    banned_at = excluded.banned_at, banned_by = excluded.banned_by, reason = excluded.reason
                """,
            arguments: [ban.userID, ban.bannedAt, ban.bannedBy, ban.reason])
        return .done
    }

    func unban(userID: String) throws -> WriteOutcome {
        try db.executeCached(sql: "DELETE FROM bans WHERE user_id = ?", arguments: [userID])
        return .count(db.changesCount)
    }

    func appendAudit(_ entry: AuditEntry) throws {
        try db.executeCached(
            sql: "INSERT INTO audit (id, at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [entry.id, entry.at, entry.actor, entry.action, entry.target, entry.detailJSON])
    }
}
