import DugnadCore
import GRDB

extension SQLiteStore {
    /// Figures for the window [now − days × 24 h, now], as `EngagementWindow` defines
    /// them, read in one snapshot.
    public func engagement(days: Int, now: Int64) throws -> EngagementStats {
        let window = EngagementWindow(days: days, now: now)
        try followedForReading()
        return try reading("read the engagement figures") { db in
            window.stats(
                channels: try Self.channelFigures(db, window),
                announcements: try Self.announcementFigures(db, window),
                daily: try Self.dailyFigures(db, window))
        }
    }

    private static func channelFigures(_ db: Database, _ window: EngagementWindow) throws
        -> [EngagementStats.ChannelFigures]
    {
        // A range of memberships_by_read_at; the primary key (user, channel) makes each
        // row a distinct reader of its channel.
        let readerRows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT channel, count(*) AS readers FROM memberships
                    WHERE read_at BETWEEN ? AND ?
                    GROUP BY channel
                    """),
            arguments: [window.from, window.to])
        return EngagementWindow.channelFigures(
            messages: try messageFigures(db, window),
            readers: try readerRows.map { row in
                (
                    channel: try row.decode(String.self, forColumn: "channel"),
                    readers: try row.decode(Int.self, forColumn: "readers")
                )
            })
    }

    /// Messages and distinct posters per channel, from the rollups `SQLiteFollower` keeps
    /// (the caller has caught it up): reading every message of a year was 0.55 s of CPU on
    /// 2M messages (docs/benchmarks.md).
    ///
    /// Messages: the whole days of the window from `channel_days` (a primary-key range per
    /// channel), the two partial days at its ends from messages_by_channel_ts, as before.
    /// Posters: `channel_posters` holds each person's newest message per channel, so the
    /// people whose newest message lies in the window are one range of its `last_ts`
    /// index; those whose newest lies after the window (a window ending in the past, or a
    /// message stored since `now` was read) are checked against the messages one by one.
    private static func messageFigures(_ db: Database, _ window: EngagementWindow) throws
        -> [(channel: String, messages: Int, posters: Int)]
    {
        let spans = window.messageSpans
        var messages: [String: Int] = [:]
        if let wholeDays = spans.wholeDays {
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT c.name AS channel,
                            (SELECT sum(d.messages) FROM channel_days d
                             WHERE d.channel = c.name AND d.day BETWEEN ? AND ?) AS messages
                        FROM channels c
                        """),
                arguments: [wholeDays.lowerBound, wholeDays.upperBound])
            for row in rows {
                guard let count: Int = row["messages"] else { continue }
                messages[row["channel"], default: 0] += count
            }
        }
        for span in spans.partial {
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT c.name AS channel, count(*) AS messages
                        FROM channels c JOIN messages m ON m.channel = c.name
                        WHERE m.ts BETWEEN ? AND ?
                        GROUP BY c.name
                        """),
                arguments: [span.lowerBound, span.upperBound])
            for row in rows {
                messages[row["channel"], default: 0] += row["messages"] as Int
            }
        }
        var posters: [String: Int] = [:]
        let posterRows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT channel, count(*) AS posters FROM channel_posters
                    WHERE last_ts BETWEEN ?1 AND ?2
                    GROUP BY channel
                    UNION ALL
                    SELECT p.channel, count(*) FROM channel_posters p
                    WHERE p.last_ts > ?2 AND EXISTS (
                        SELECT 1 FROM messages m
                        WHERE m.channel = p.channel AND m.ts BETWEEN ?1 AND ?2 AND m.from_id = p.from_id)
                    GROUP BY p.channel
                    """),
            arguments: [window.from, window.to])
        for row in posterRows {
            posters[row["channel"], default: 0] += row["posters"] as Int
        }
        return messages.compactMap { channel, count in
            count > 0 ? (channel: channel, messages: count, posters: posters[channel] ?? 0) : nil
        }
    }

    private static func announcementFigures(_ db: Database, _ window: EngagementWindow) throws
        -> [EngagementStats.AnnouncementFigures]
    {
        // A range of announcements_by_ts; the counts come from announcement_audience_reads,
        // which holds only the rows of those who read (every ack is a read), never the
        // whole audience (whose size is stored). Correlated subqueries rather than a
        // grouped join, which would walk every announcement ever posted in id order.
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT a.id AS id, a.title AS title, a.ts AS ts, a.audience_count AS audience,
                        (SELECT count(*) FROM announcement_audience r
                         WHERE r.announcement_id = a.id AND r.read_at IS NOT NULL) AS read,
                        (SELECT count(r.acked_at) FROM announcement_audience r
                         WHERE r.announcement_id = a.id AND r.read_at IS NOT NULL) AS acked
                    FROM announcements a
                    WHERE a.ts BETWEEN ? AND ?
                    ORDER BY a.ts DESC, a.id DESC
                    """),
            arguments: [window.from, window.to])
        return try rows.map { row in
            let id = try row.decode(String.self, forColumn: "id")
            let ts = try row.decode(Int64.self, forColumn: "ts")
            let read = try row.decode(Int.self, forColumn: "read")
            return EngagementStats.AnnouncementFigures(
                id: id,
                title: try row.decode(String.self, forColumn: "title"),
                ts: ts,
                audience: try row.decode(Int.self, forColumn: "audience"),
                read: read,
                acked: try row.decode(Int.self, forColumn: "acked"),
                medianMillisToRead: try medianMillisToRead(db, announcementID: id, ts: ts, reads: read))
        }
    }

    /// Reads the one or two middle read times from the index, in order, skipping the rest
    /// with OFFSET instead of fetching every read.
    private static func medianMillisToRead(_ db: Database, announcementID: String, ts: Int64, reads: Int) throws
        -> Int64?
    {
        guard let middle = EngagementWindow.middleReads(of: reads) else { return nil }
        let readTimes = try Int64.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT read_at FROM announcement_audience
                    WHERE announcement_id = ? AND read_at IS NOT NULL
                    ORDER BY read_at
                    LIMIT ? OFFSET ?
                    """),
            arguments: [announcementID, middle.limit, middle.offset])
        return EngagementWindow.medianMillisToRead(middle: readTimes, postedAt: ts)
    }

    /// Recorded days come from the user_active_days rollup, counted per day in
    /// active_day_counts (one key range of at most `days` rows); open sessions add the days
    /// since their last heartbeat that the rollup may not hold yet.
    private static func dailyFigures(_ db: Database, _ window: EngagementWindow) throws
        -> [EngagementStats.DayFigures]
    {
        guard let days = window.dailyDays else { return [] }
        let recorded = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT day, users FROM active_day_counts WHERE day BETWEEN ? AND ?"),
            arguments: [days.lowerBound, days.upperBound])
        // An open session is alive until now (start-up closes those a crash left open).
        // Few sessions are open, and most of them since today.
        let unrecorded = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    WITH RECURSIVE open_days (user_id, day) AS (
                        SELECT user_id, max(connected_at / ?4, ?1) FROM sessions
                        WHERE disconnected_at IS NULL AND connected_at <= ?3
                        UNION ALL
                        SELECT user_id, day + 1 FROM open_days WHERE day < ?2
                    )
                    SELECT day, count(DISTINCT user_id) AS users FROM open_days o
                    WHERE day <= ?2
                        AND NOT EXISTS (SELECT 1 FROM user_active_days a WHERE a.day = o.day AND a.user_id = o.user_id)
                    GROUP BY day
                    """),
            arguments: [days.lowerBound, days.upperBound, window.to, EngagementWindow.millisPerDay])
        return window.dailyFigures(
            activeUsers: try (recorded + unrecorded).map { row in
                (day: try row.decode(Int64.self, forColumn: "day"), users: try row.decode(Int.self, forColumn: "users"))
            })
    }
}
