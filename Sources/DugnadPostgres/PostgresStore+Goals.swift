import DugnadCore
import PostgresNIO

extension PostgresStore {
    public func goals() throws -> [GoalRecord] {
        try reading("read the goals") { db in
            try db.rows("SELECT metric, target, set_by, set_at FROM goals").compactMap { row in
                // A metric this version does not know (written by a newer one) is skipped.
                guard let metric = GoalMetric(rawValue: try row.decode("metric", as: String.self)) else { return nil }
                return GoalRecord(
                    metric: metric, target: try row.decode("target", as: Double.self),
                    setBy: try row.decode("set_by", as: String.self), setAt: try row.decode("set_at", as: Int64.self))
            }
            .sorted { $0.metric.order < $1.metric.order }
        }
    }

    /// One REPEATABLE READ snapshot for every week, so the counts and the trend agree.
    public func goalFigures(weekEnds: [Int64]) throws -> [GoalFigures] {
        try reading("read the goals' figures") { db in
            try db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let active = try Self.activePeople(db, weekEnds: weekEnds)
            let weeks = try weekEnds.map { to in
                var figures = try Self.goalFigures(db, to: to)
                figures.activePeople = active[to] ?? 0
                return figures
            }
            try db.query("COMMIT")
            return weeks
        }
    }

    /// Every week's active people in one statement (`ActivePeopleQuery`, as on SQLite).
    static func activePeople(_ db: BlockingConnection, weekEnds: [Int64]) throws -> [Int64: Int] {
        guard let sql = ActivePeopleQuery.sql(weekEnds: weekEnds) else { return [:] }
        return Dictionary(
            uniqueKeysWithValues: try db.rows(PostgresQuery(unsafeSQL: sql)).map { row in
                (try row.decode("week_to", as: Int64.self), Int(try row.decode("people", as: Int64.self)))
            })
    }

    /// The definitions are `GoalFigures`'.
    private static func goalFigures(_ db: BlockingConnection, to: Int64) throws -> GoalFigures {
        let from = to - GoalFigures.weekMillis
        let day = GoalFigures.dayMillis
        var figures = GoalFigures()
        figures.people = try count(db, "SELECT count(*) FROM users WHERE created_at <= \(to)")
        let reach = try db.rows(
            """
            SELECT count(*) AS audience,
                count(*) FILTER (WHERE r.read_at <= a.ts + \(day)) AS read,
                count(*) FILTER (WHERE r.require_ack) AS ack_audience,
                count(*) FILTER (WHERE r.require_ack AND r.acked_at <= a.ts + \(day)) AS acked
            FROM announcements a JOIN announcement_audience r ON r.announcement_id = a.id
            WHERE a.ts BETWEEN \(from - day) AND \(to - day)
            """
        ).first
        figures.audience = Int(try reach?.decode("audience", as: Int64.self) ?? 0)
        figures.readWithin24h = Int(try reach?.decode("read", as: Int64.self) ?? 0)
        figures.ackAudience = Int(try reach?.decode("ack_audience", as: Int64.self) ?? 0)
        figures.ackedWithin24h = Int(try reach?.decode("acked", as: Int64.self) ?? 0)
        figures.leaderPosts =
            try count(
                db,
                """
                SELECT count(*) FROM channels c JOIN messages m ON m.channel = c.name
                JOIN users u ON u.id = m.from_id
                WHERE c.kind IN ('public', 'announce') AND m.ts BETWEEN \(from) AND \(to) AND 'leader' = ANY (u.roles)
                """)
            + count(
                db,
                """
                SELECT count(*) FROM announcements a JOIN users u ON u.id = a.from_id
                WHERE a.ts BETWEEN \(from) AND \(to) AND 'leader' = ANY (u.roles)
                """)
        figures.openChannels = try count(
            db, "SELECT count(*) FROM channels WHERE kind IN ('public', 'announce') AND created_at <= \(to)")
        figures.activeChannels = try count(
            db,
            """
            SELECT count(*) FROM channels c WHERE c.kind IN ('public', 'announce') AND c.created_at <= \(to)
                AND EXISTS (SELECT 1 FROM messages m WHERE m.channel = c.name AND m.ts BETWEEN \(from) AND \(to))
            """)
        return figures
    }

    private static func count(_ db: BlockingConnection, _ query: PostgresQuery) throws -> Int {
        Int(try db.column(query, as: Int64.self).first ?? 0)
    }
}
