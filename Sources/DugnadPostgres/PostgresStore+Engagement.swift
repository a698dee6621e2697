import DugnadCore
import PostgresNIO

extension PostgresStore {
    static let millisPerDay: Int64 = 86_400_000
    /// `days` is clamped to this range: at most ten years, as the HTTP API allows.
    static let engagementDays = 0...3_660

    /// Figures for the window [now − days × 24 h, now], with the same definitions as the
    /// SQLite store's (see `SQLiteStore.engagement`), read in one REPEATABLE READ
    /// transaction so that the figures come from one snapshot.
    public func engagement(days: Int, now: Int64) throws -> EngagementStats {
        let days = min(max(days, Self.engagementDays.lowerBound), Self.engagementDays.upperBound)
        let from = now - Int64(days) * Self.millisPerDay
        return try reading("read the engagement figures") { db in
            try db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let stats = EngagementStats(
                from: from, to: now,
                channels: try channelFigures(db, from: from, to: now),
                announcements: try announcementFigures(db, from: from, to: now),
                daily: try dailyFigures(db, days: days, now: now))
            try db.query("COMMIT")
            return stats
        }
    }

    private func channelFigures(_ db: BlockingConnection, from: Int64, to: Int64) throws
        -> [EngagementStats.ChannelFigures]
    {
        let messageRows = try db.rows(
            """
            SELECT c.name AS channel, count(*) AS messages, count(DISTINCT m.from_id) AS posters
            FROM channels c JOIN messages m ON m.channel = c.name
            WHERE m.ts BETWEEN \(from) AND \(to)
            GROUP BY c.name
            """)
        let readerRows = try db.rows(
            """
            SELECT channel, count(*) AS readers FROM memberships
            WHERE read_at BETWEEN \(from) AND \(to)
            GROUP BY channel
            """)

        var figures: [String: EngagementStats.ChannelFigures] = [:]
        for row in messageRows {
            let channel: String = try row.decode("channel")
            figures[channel] = EngagementStats.ChannelFigures(
                channel: channel,
                messages: Int(try row.decode("messages", as: Int64.self)),
                activePosters: Int(try row.decode("posters", as: Int64.self)),
                activeReaders: 0)
        }
        for row in readerRows {
            let channel: String = try row.decode("channel")
            figures[channel, default: .init(channel: channel, messages: 0, activePosters: 0, activeReaders: 0)]
                .activeReaders = Int(try row.decode("readers", as: Int64.self))
        }
        return figures.values.sorted { left, right in
            left.messages != right.messages ? left.messages > right.messages : left.channel < right.channel
        }
    }

    private func announcementFigures(_ db: BlockingConnection, from: Int64, to: Int64) throws
        -> [EngagementStats.AnnouncementFigures]
    {
        let rows = try db.rows(
            """
            SELECT a.id AS id, a.title AS title, a.ts AS ts, a.audience_count AS audience,
                (SELECT count(*) FROM announcement_audience r
                 WHERE r.announcement_id = a.id AND r.read_at IS NOT NULL) AS read,
                (SELECT count(r.acked_at) FROM announcement_audience r
                 WHERE r.announcement_id = a.id AND r.read_at IS NOT NULL) AS acked
            FROM announcements a
            WHERE a.ts BETWEEN \(from) AND \(to)
            ORDER BY a.ts DESC, a.id DESC
            """)
        return try rows.map { row in
            let id: String = try row.decode("id")
            let ts: Int64 = try row.decode("ts")
            let read = Int(try row.decode("read", as: Int64.self))
            return EngagementStats.AnnouncementFigures(
                id: id, title: try row.decode("title"), ts: ts,
                audience: Int(try row.decode("audience", as: Int64.self)), read: read,
                acked: Int(try row.decode("acked", as: Int64.self)),
                medianMillisToRead: try medianMillisToRead(db, announcementID: id, ts: ts, reads: read))
        }
    }

    /// The one or two middle read times, from the reads index, skipping the rest.
    private func medianMillisToRead(_ db: BlockingConnection, announcementID: String, ts: Int64, reads: Int) throws
        -> Int64?
    {
        guard reads > 0 else { return nil }
        let middle = try db.column(
            """
            SELECT read_at FROM announcement_audience
            WHERE announcement_id = \(announcementID) AND read_at IS NOT NULL
            ORDER BY read_at
            LIMIT \(Int64(reads % 2 == 0 ? 2 : 1)) OFFSET \(Int64((reads - 1) / 2))
            """, as: Int64.self)
        guard let lower = middle.first, let upper = middle.last else { return nil }
        return (lower - ts) + (upper - lower) / 2
    }

    /// Recorded days come from the user_active_days rollup; open sessions add the days
    /// since their last heartbeat that the rollup may not hold yet.
    private func dailyFigures(_ db: BlockingConnection, days: Int, now: Int64) throws -> [EngagementStats.DayFigures] {
        guard days > 0 else { return [] }
        let lastDay = Self.floorDivide(now, Self.millisPerDay)
        let firstDay = lastDay - Int64(days) + 1
        let recorded = try db.rows(
            """
            SELECT day, count(*) AS users FROM user_active_days
            WHERE day BETWEEN \(firstDay) AND \(lastDay) GROUP BY day
            """)
        let unrecorded = try db.rows(
            """
            SELECT d.day AS day, count(DISTINCT s.user_id) AS users
            FROM sessions s
            CROSS JOIN LATERAL generate_series(greatest(s.connected_at / \(Self.millisPerDay), \(firstDay)), \(lastDay))
                AS d (day)
            WHERE s.disconnected_at IS NULL AND s.connected_at <= \(now)
                AND NOT EXISTS (SELECT 1 FROM user_active_days a WHERE a.day = d.day AND a.user_id = s.user_id)
            GROUP BY d.day
            """)
        var users: [Int64: Int] = [:]
        for row in recorded + unrecorded {
            users[try row.decode("day", as: Int64.self), default: 0] += Int(try row.decode("users", as: Int64.self))
        }
        // The dates by PostgreSQL's calendar: date + integer counts days.
        let dates = try db.rows(
            """
            SELECT g.day AS day, to_char(date '1970-01-01' + g.day::integer, 'YYYY-MM-DD') AS date
            FROM generate_series(\(firstDay), \(lastDay)) AS g (day)
            ORDER BY g.day
            """)
        return try dates.map { row in
            EngagementStats.DayFigures(
                day: try row.decode("date"), activeUsers: users[try row.decode("day", as: Int64.self)] ?? 0)
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }
}
