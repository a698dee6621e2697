import DugnadCore
import PostgresNIO

extension PostgresStore {
    /// Figures for the window [now − days × 24 h, now], as `EngagementWindow` defines
    /// them, read in one REPEATABLE READ transaction so that the figures come from one
    /// snapshot.
    public func engagement(days: Int, now: Int64) throws -> EngagementStats {
        let window = EngagementWindow(days: days, now: now)
        return try reading("read the engagement figures") { db in
            try db.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let stats = window.stats(
                channels: try Self.channelFigures(db, window),
                announcements: try Self.announcementFigures(db, window),
                daily: try Self.dailyFigures(db, window))
            try db.query("COMMIT")
            return stats
        }
    }

    private static func channelFigures(_ db: BlockingConnection, _ window: EngagementWindow) throws
        -> [EngagementStats.ChannelFigures]
    {
        let messageRows = try db.rows(
            """
            SELECT c.name AS channel, count(*) AS messages, count(DISTINCT m.from_id) AS posters
            FROM channels c JOIN messages m ON m.channel = c.name
            WHERE m.ts BETWEEN \(window.from) AND \(window.to)
            GROUP BY c.name
            """)
        let readerRows = try db.rows(
            """
            SELECT channel, count(*) AS readers FROM memberships
            WHERE read_at BETWEEN \(window.from) AND \(window.to)
            GROUP BY channel
            """)
        return EngagementWindow.channelFigures(
            messages: try messageRows.map { row in
                (
                    channel: try row.decode("channel", as: String.self),
                    messages: Int(try row.decode("messages", as: Int64.self)),
                    posters: Int(try row.decode("posters", as: Int64.self))
                )
            },
            readers: try readerRows.map { row in
                (channel: try row.decode("channel", as: String.self), readers: Int(try row.decode("readers", as: Int64.self)))
            })
    }

    private static func announcementFigures(_ db: BlockingConnection, _ window: EngagementWindow) throws
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
            WHERE a.ts BETWEEN \(window.from) AND \(window.to)
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
    private static func medianMillisToRead(_ db: BlockingConnection, announcementID: String, ts: Int64, reads: Int)
        throws -> Int64?
    {
        guard let middle = EngagementWindow.middleReads(of: reads) else { return nil }
        let readTimes = try db.column(
            """
            SELECT read_at FROM announcement_audience
            WHERE announcement_id = \(announcementID) AND read_at IS NOT NULL
            ORDER BY read_at
            LIMIT \(Int64(middle.limit)) OFFSET \(Int64(middle.offset))
            """, as: Int64.self)
        return EngagementWindow.medianMillisToRead(middle: readTimes, postedAt: ts)
    }

    /// Recorded days come from the user_active_days rollup; open sessions add the days
    /// since their last heartbeat that the rollup may not hold yet.
    private static func dailyFigures(_ db: BlockingConnection, _ window: EngagementWindow) throws
        -> [EngagementStats.DayFigures]
    {
        guard let days = window.dailyDays else { return [] }
        let recorded = try db.rows(
            """
            SELECT day, count(*) AS users FROM user_active_days
            WHERE day BETWEEN \(days.lowerBound) AND \(days.upperBound) GROUP BY day
            """)
        let unrecorded = try db.rows(
            """
            SELECT d.day AS day, count(DISTINCT s.user_id) AS users
            FROM sessions s
            CROSS JOIN LATERAL generate_series(
                greatest(s.connected_at / \(EngagementWindow.millisPerDay), \(days.lowerBound)), \(days.upperBound))
                AS d (day)
            WHERE s.disconnected_at IS NULL AND s.connected_at <= \(window.to)
                AND NOT EXISTS (SELECT 1 FROM user_active_days a WHERE a.day = d.day AND a.user_id = s.user_id)
            GROUP BY d.day
            """)
        return window.dailyFigures(
            activeUsers: try (recorded + unrecorded).map { row in
                (day: try row.decode("day", as: Int64.self), users: Int(try row.decode("users", as: Int64.self)))
            })
    }
}
