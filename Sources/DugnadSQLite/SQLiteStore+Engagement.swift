import DugnadCore
import GRDB

extension SQLiteStore {
    static let millisPerDay: Int64 = 86_400_000
    /// `days` is clamped to this range: at most ten years, as the HTTP API allows.
    static let engagementDays = 0...3_660

    /// Figures for the window [now − days × 24 h, now], read in one snapshot.
    ///
    /// - Channels: those with a message or an active reader in the window, by messages
    ///   (most first), then name. Active readers are members whose read position last moved
    ///   in the window: only the latest move is kept, so a member who read in the window
    ///   and again after `now` does not count when `now` lies in the past.
    /// - Announcements: those posted in the window, newest first. The median time to read
    ///   is the mean of the two middle values (rounded down) when the count of reads is
    ///   even, the middle value when it is odd.
    /// - Daily: the last `days` UTC days, oldest first, today (up to `now`) included, so
    ///   every day listed lies inside the window. A user is active on a day when one of
    ///   its sessions was known alive that day: opened, heartbeat or closed then, or still
    ///   open (a session lasting days counts on each of them).
    public func engagement(days: Int, now: Int64) throws -> EngagementStats {
        let days = min(max(days, Self.engagementDays.lowerBound), Self.engagementDays.upperBound)
        let from = now - Int64(days) * Self.millisPerDay
        return try readingStore("read the engagement figures") { db in
            EngagementStats(
                from: from, to: now,
                channels: try Self.channelFigures(db, from: from, to: now),
                announcements: try Self.announcementFigures(db, from: from, to: now),
                daily: try Self.dailyFigures(db, days: days, now: now))
        }
    }

    private static func channelFigures(_ db: Database, from: Int64, to: Int64) throws
        -> [EngagementStats.ChannelFigures]
    {
        // Driven by channels, each one a range of messages_by_channel_ts (channel, ts,
        // from_id): the rows read are the window's messages, from the index alone, and
        // the groups come out in channel order without a sort.
        let messageRows = try Row.fetchAll(
            db,
            sql: """
                SELECT c.name AS channel, count(*) AS messages, count(DISTINCT m.from_id) AS posters
                FROM channels c JOIN messages m ON m.channel = c.name
                WHERE m.ts BETWEEN ? AND ?
                GROUP BY c.name
                """,
            arguments: [from, to])
        // A range of memberships_by_read_at; the primary key (user, channel) makes each
        // row a distinct reader of its channel.
        let readerRows = try Row.fetchAll(
            db,
            sql: """
                SELECT channel, count(*) AS readers FROM memberships
                WHERE read_at BETWEEN ? AND ?
                GROUP BY channel
                """,
            arguments: [from, to])

        var figures: [String: EngagementStats.ChannelFigures] = [:]
        for row in messageRows {
            let channel = try row.decode(String.self, forColumn: "channel")
            figures[channel] = EngagementStats.ChannelFigures(
                channel: channel,
                messages: try row.decode(Int.self, forColumn: "messages"),
                activePosters: try row.decode(Int.self, forColumn: "posters"),
                activeReaders: 0)
        }
        for row in readerRows {
            let channel = try row.decode(String.self, forColumn: "channel")
            figures[channel, default: .init(channel: channel, messages: 0, activePosters: 0, activeReaders: 0)]
                .activeReaders = try row.decode(Int.self, forColumn: "readers")
        }
        return figures.values.sorted { left, right in
            left.messages != right.messages ? left.messages > right.messages : left.channel < right.channel
        }
    }

    private static func announcementFigures(_ db: Database, from: Int64, to: Int64) throws
        -> [EngagementStats.AnnouncementFigures]
    {
        // A range of announcements_by_ts; the counts come from announcement_audience_reads,
        // which holds only the rows of those who read (every ack is a read), never the
        // whole audience (whose size is stored). Correlated subqueries rather than a
        // grouped join, which would walk every announcement ever posted in id order.
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT a.id AS id, a.title AS title, a.ts AS ts, a.audience_count AS audience,
                    (SELECT count(*) FROM announcement_audience r
                     WHERE r.announcement_id = a.id AND r.read_at IS NOT NULL) AS read,
                    (SELECT count(r.acked_at) FROM announcement_audience r
                     WHERE r.announcement_id = a.id AND r.read_at IS NOT NULL) AS acked
                FROM announcements a
                WHERE a.ts BETWEEN ? AND ?
                ORDER BY a.ts DESC, a.id DESC
                """,
            arguments: [from, to])
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
        guard reads > 0 else { return nil }
        let middle = try Int64.fetchAll(
            db,
            sql: """
                SELECT read_at FROM announcement_audience
                WHERE announcement_id = ? AND read_at IS NOT NULL
                ORDER BY read_at
                LIMIT ? OFFSET ?
                """,
            arguments: [announcementID, reads % 2 == 0 ? 2 : 1, (reads - 1) / 2])
        guard let lower = middle.first, let upper = middle.last else { return nil }
        return (lower - ts) + (upper - lower) / 2
    }

    /// Recorded days come from the user_active_days rollup (one key range, no sort); open
    /// sessions add the days since their last heartbeat that the rollup may not hold yet.
    private static func dailyFigures(_ db: Database, days: Int, now: Int64) throws -> [EngagementStats.DayFigures] {
        guard days > 0 else { return [] }
        let lastDay = floorDivide(now, millisPerDay)
        let firstDay = lastDay - Int64(days) + 1
        var users: [Int64: Int] = [:]
        let recorded = try Row.fetchAll(
            db,
            sql: "SELECT day, count(*) AS users FROM user_active_days WHERE day BETWEEN ? AND ? GROUP BY day",
            arguments: [firstDay, lastDay])
        // An open session is alive until now (start-up closes those a crash left open).
        // Few sessions are open, and most of them since today.
        let unrecorded = try Row.fetchAll(
            db,
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
                """,
            arguments: [firstDay, lastDay, now, millisPerDay])
        for row in recorded + unrecorded {
            users[try row.decode(Int64.self, forColumn: "day"), default: 0] += try row.decode(Int.self, forColumn: "users")
        }
        return (firstDay...lastDay).map { day in
            EngagementStats.DayFigures(day: utcDate(daysSinceEpoch: day), activeUsers: users[day] ?? 0)
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    /// `YYYY-MM-DD` of a day counted from 1970-01-01, in the proleptic Gregorian calendar
    /// (Howard Hinnant's civil_from_days): pure arithmetic, no formatter or time zone.
    static func utcDate(daysSinceEpoch days: Int64) -> String {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return "\(year)-\(twoDigits(month))-\(twoDigits(day))"
    }

    private static func twoDigits(_ value: Int64) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
