import DugnadCore
import GRDB

extension SQLiteStore {
    public func goals() throws -> [GoalRecord] {
        try reading("read the goals") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT metric, target, set_by, set_at FROM goals")).compactMap { row in
                // A metric this version does not know (written by a newer one) is skipped.
                guard let metric = GoalMetric(rawValue: try row.decode(String.self, forColumn: "metric")) else { return nil }
                return GoalRecord(
                    metric: metric, target: try row.decode(Double.self, forColumn: "target"),
                    setBy: try row.decode(String.self, forColumn: "set_by"),
                    setAt: try row.decode(Int64.self, forColumn: "set_at"))
            }
            .sorted { $0.metric.order < $1.metric.order }
        }
    }

    /// One read transaction for every week, so the counts and the trend agree. The active
    /// people of every week come from one statement (`ActivePeopleQuery`).
    public func goalFigures(weekEnds: [Int64]) throws -> [GoalFigures] {
        try reading("read the goals' figures") { db in
            let active = try Self.activePeople(db, weekEnds: weekEnds)
            return try weekEnds.map { to in
                var figures = try Self.goalFigures(db, to: to)
                figures.activePeople = active[to] ?? 0
                return figures
            }
        }
    }

    /// Every week's active people in one statement (`ActivePeopleQuery`).
    static func activePeople(_ db: Database, weekEnds: [Int64]) throws -> [Int64: Int] {
        guard let sql = ActivePeopleQuery.sql(weekEnds: weekEnds) else { return [:] }
        return Dictionary(
            uniqueKeysWithValues: try Row.fetchAll(db, sql: sql).map { row in
                (try row.decode(Int64.self, forColumn: "week_to"), try row.decode(Int.self, forColumn: "people"))
            })
    }

    /// The definitions are `GoalFigures`'.
    private static func goalFigures(_ db: Database, to: Int64) throws -> GoalFigures {
        let from = to - GoalFigures.weekMillis
        let day = GoalFigures.dayMillis
        var figures = GoalFigures()
        figures.people = try count(db, "SELECT count(*) FROM users WHERE created_at <= ?", [to])
        // A session overlaps the week when it opened by its end and had not closed
        // before its start (an open session is alive now).
        let reach = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT count(*) AS audience,
                        count(r.read_at <= a.ts + ?3 OR NULL) AS read,
                        count(r.require_ack = 1 OR NULL) AS ack_audience,
                        count(r.require_ack = 1 AND r.acked_at <= a.ts + ?3 OR NULL) AS acked
                    FROM announcements a JOIN announcement_audience r ON r.announcement_id = a.id
                    WHERE a.ts BETWEEN ?1 AND ?2
                    """),
            arguments: [from - day, to - day, day])
        figures.audience = try reach?.decode(Int.self, forColumn: "audience") ?? 0
        figures.readWithin24h = try reach?.decode(Int.self, forColumn: "read") ?? 0
        figures.ackAudience = try reach?.decode(Int.self, forColumn: "ack_audience") ?? 0
        figures.ackedWithin24h = try reach?.decode(Int.self, forColumn: "acked") ?? 0
        figures.leaderPosts =
            try count(
                db,
                """
                SELECT count(*) FROM channels c CROSS JOIN messages m ON m.channel = c.name AND m.ts BETWEEN ?1 AND ?2
                WHERE c.kind IN ('public', 'announce') AND m.from_id IN (\(leaderIDs))
                """, [from, to])
            + count(
                db, "SELECT count(*) FROM announcements a WHERE a.ts BETWEEN ?1 AND ?2 AND \(isLeader("a.from_id"))",
                [from, to])
        figures.openChannels = try count(
            db, "SELECT count(*) FROM channels WHERE kind IN ('public', 'announce') AND created_at <= ?", [to])
        figures.activeChannels = try count(
            db,
            """
            SELECT count(*) FROM channels c WHERE c.kind IN ('public', 'announce') AND c.created_at <= ?1
                AND EXISTS (SELECT 1 FROM messages m WHERE m.channel = c.name AND m.ts BETWEEN ?2 AND ?1)
            """, [to, from])
        return figures
    }

    /// The user in `column` has `leader` among the roles its token last gave (roles are a JSON array).
    private static func isLeader(_ column: String) -> String {
        "EXISTS (SELECT 1 FROM users u, json_each(u.roles) WHERE u.id = \(column) AND json_each.value = 'leader')"
    }

    /// The users whose roles (as their token last gave them) include `leader`. The leader
    /// posts are counted from the week's messages channel by channel (CROSS JOIN keeps
    /// channels outside: one range of messages_by_channel_ts each), each author looked up
    /// in this list once; the planner otherwise scanned every message ever posted with
    /// the roles read per message.
    private static let leaderIDs = "SELECT u.id FROM users u, json_each(u.roles) WHERE json_each.value = 'leader'"

    private static func count(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: sql), arguments: arguments) ?? 0
    }
}
