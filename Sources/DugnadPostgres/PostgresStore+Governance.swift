import DugnadCore
import DugnadProtocol
import PostgresNIO

extension PostgresStore {
    public func standing(userID: String) throws -> UserStanding {
        try reading("read the standing of '\(userID)'") { db in try Self.fetchStanding(db, userID: userID) }
    }

    static func fetchStanding(_ db: BlockingConnection, userID: String) throws -> UserStanding {
        let roles = try db.value("SELECT directory_roles FROM users WHERE id = \(userID)", as: [String].self) ?? []
        let ban = try db.row("SELECT user_id, banned_at, banned_by, reason FROM bans WHERE user_id = \(userID)").map {
            row in
            BanRecord(
                userID: try row.decode("user_id"), bannedAt: try row.decode("banned_at"),
                bannedBy: try row.decode("banned_by"), reason: try row.decode("reason", as: String?.self))
        }
        return UserStanding(directoryRoles: roles, ban: ban)
    }

    public func channelsCreated(by userID: String, since: Int64) throws -> Int {
        try reading("count the channels '\(userID)' created") { db in
            Int(
                try db.value(
                    "SELECT count(*) FROM channels WHERE created_by = \(userID) AND created_at >= \(since)",
                    as: Int64.self) ?? 0)
        }
    }

    public func auditEntries(afterSeq: Int64, orSince since: Int64, limit: Int) throws -> [AuditEntry] {
        try reading("read the audit log") { db in
            try db.rows(
                """
                (SELECT \(unescaped: Self.auditColumns) FROM audit WHERE seq > \(afterSeq)
                 ORDER BY seq LIMIT \(Int64(max(0, limit))))
                UNION ALL
                (SELECT \(unescaped: Self.auditColumns) FROM audit WHERE at >= \(since) AND seq <= \(afterSeq)
                 ORDER BY seq LIMIT \(Int64(max(0, limit))))
                """
            ).map(Self.auditEntry)
        }
    }

    public func auditPage(beforeSeq: Int64?, limit: Int) throws -> (entries: [AuditEntry], hasMore: Bool) {
        let page = KeysetPage(limit: limit)
        return try reading("read the audit log") { db in
            page.page(
                fromFetched: try db.rows(
                    """
                    SELECT \(unescaped: Self.auditColumns) FROM audit
                    WHERE (\(beforeSeq)::bigint IS NULL OR seq < \(beforeSeq)::bigint)
                    ORDER BY seq DESC LIMIT \(Int64(page.fetchLimit))
                    """
                ).map(Self.auditEntry))
        }
    }

    public func latestAuditSeq() throws -> Int64 {
        try reading("read the audit log") { db in
            try db.value("SELECT coalesce(max(seq), 0) FROM audit", as: Int64.self) ?? 0
        }
    }

    static let auditColumns = "seq, id, at, actor, action, target, detail"

    static func auditEntry(_ row: PostgresRandomAccessRow) throws -> AuditEntry {
        AuditEntry(
            seq: try row.decode("seq"), id: try row.decode("id"), at: try row.decode("at"),
            actor: try row.decode("actor"), action: try row.decode("action"), target: try row.decode("target"),
            detailJSON: try row.decode("detail"))
    }
}
