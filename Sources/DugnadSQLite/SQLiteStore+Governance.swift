import DugnadCore
import DugnadProtocol
import GRDB

extension SQLiteStore {
    public func standing(userID: String) throws -> UserStanding {
        try reading("read the standing of '\(userID)'") { db in try Self.fetchStanding(db, userID: userID) }
    }

    static func fetchStanding(_ db: Database, userID: String) throws -> UserStanding {
        let roles =
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT directory_roles FROM users WHERE id = ?"), arguments: [userID]
            )
            .map(Self.decodeRoles) ?? []
        let ban = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT user_id, banned_at, banned_by, reason FROM bans WHERE user_id = ?"),
            arguments: [userID]
        ).map { row in
            BanRecord(
                userID: try row.decode(String.self, forColumn: "user_id"),
                bannedAt: try row.decode(Int64.self, forColumn: "banned_at"),
                bannedBy: try row.decode(String.self, forColumn: "banned_by"),
                reason: try row.decode(String?.self, forColumn: "reason"))
        }
        return UserStanding(directoryRoles: roles, ban: ban)
    }

    public func channelsCreated(by userID: String, since: Int64) throws -> Int {
        try reading("count the channels '\(userID)' created") { db in
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT count(*) FROM channels WHERE created_by = ? AND created_at >= ?"),
                arguments: [userID, since]) ?? 0
        }
    }

    public func auditEntries(afterSeq: Int64, orSince since: Int64, limit: Int) throws -> [AuditEntry] {
        try reading("read the audit log") { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM (SELECT \(Self.auditColumns) FROM audit WHERE seq > ? ORDER BY seq LIMIT ?)
                        UNION ALL
                        SELECT * FROM (
                            SELECT \(Self.auditColumns) FROM audit WHERE at >= ? AND seq <= ? ORDER BY seq LIMIT ?)
                        """),
                arguments: [afterSeq, max(0, limit), since, afterSeq, max(0, limit)]
            ).map(Self.auditEntry)
        }
    }

    public func auditPage(beforeSeq: Int64?, limit: Int) throws -> (entries: [AuditEntry], hasMore: Bool) {
        let page = KeysetPage(limit: limit)
        return try reading("read the audit log") { db in
            page.page(
                fromFetched: try Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT \(Self.auditColumns) FROM audit
                            WHERE (? IS NULL OR seq < ?) ORDER BY seq DESC LIMIT ?
                            """),
                    arguments: [beforeSeq, beforeSeq, page.fetchLimit]
                ).map(Self.auditEntry))
        }
    }

    public func latestAuditSeq() throws -> Int64 {
        try reading("read the audit log") { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT coalesce(max(seq), 0) FROM audit")) ?? 0
        }
    }

    static let auditColumns = "seq, id, at, actor, action, target, detail"

    static func auditEntry(_ row: Row) throws -> AuditEntry {
        AuditEntry(
            seq: try row.decode(Int64.self, forColumn: "seq"),
            id: try row.decode(String.self, forColumn: "id"),
            at: try row.decode(Int64.self, forColumn: "at"),
            actor: try row.decode(String.self, forColumn: "actor"),
            action: try row.decode(String.self, forColumn: "action"),
            target: try row.decode(String.self, forColumn: "target"),
            detailJSON: try row.decode(String.self, forColumn: "detail"))
    }
}
