/// The window of `Store.engagement(days:now:)` and what every engine does alike around its
/// queries: which days the window covers, and how the figures the queries return are put
/// together. The definitions the queries follow:
///
/// - Channels: those with a message or an active reader in the window, by messages (most
///   first), then name. Active readers are members whose read position last moved in the
///   window: only the latest move is kept, so a member who read in the window and again
///   after `to` does not count when `to` lies in the past.
/// - Announcements: those posted in the window, newest first. The median time to read is
///   the mean of the two middle values (rounded down) when the count of reads is even, the
///   middle value when it is odd.
/// - Daily: the last `days` UTC days, oldest first, today (up to `to`) included, so every
///   day listed lies inside the window. A user is active on a day when one of its sessions
///   was known alive that day: opened, heartbeat or closed then, or still open (a session
///   lasting days counts on each of them).
public struct EngagementWindow: Sendable, Equatable {
    public static let millisPerDay: Int64 = 86_400_000
    /// `days` is clamped to this range: at most ten years, as the HTTP API allows.
    public static let dayLimits = 0...3_660

    /// Whole days of 24 hours, clamped to `dayLimits`.
    public let days: Int
    /// Milliseconds since the Unix epoch: the window is [from, to].
    public let from: Int64
    public let to: Int64

    /// [now − days × 24 h, now].
    public init(days: Int, now: Int64) {
        self.days = min(max(days, Self.dayLimits.lowerBound), Self.dayLimits.upperBound)
        to = now
        from = now - Int64(self.days) * Self.millisPerDay
    }

    /// The days of the daily figures, counted from 1970-01-01 (UTC): the last `days`, the
    /// day of `to` included; nil when `days` is 0.
    public var dailyDays: ClosedRange<Int64>? {
        guard days > 0 else { return nil }
        let lastDay = Self.floorDivide(to, Self.millisPerDay)
        return (lastDay - Int64(days) + 1)...lastDay
    }

    /// How an engine that keeps messages per channel and UTC day reads the window: the
    /// days wholly inside it from that rollup (nil when there are none), the rest (a part
    /// of the first day and of the last, or the window itself when it lies within a day)
    /// from the messages.
    public var messageSpans: (wholeDays: ClosedRange<Int64>?, partial: [ClosedRange<Int64>]) {
        let firstDay = Self.floorDivide(from, Self.millisPerDay)
        let lastDay = Self.floorDivide(to, Self.millisPerDay)
        guard firstDay < lastDay else { return (nil, [from...to]) }
        let wholeDays = firstDay + 1 < lastDay ? (firstDay + 1)...(lastDay - 1) : nil
        return (wholeDays, [from...((firstDay + 1) * Self.millisPerDay - 1), (lastDay * Self.millisPerDay)...to])
    }

    /// The figures of the window.
    public func stats(
        channels: [EngagementStats.ChannelFigures], announcements: [EngagementStats.AnnouncementFigures],
        daily: [EngagementStats.DayFigures]
    ) -> EngagementStats {
        EngagementStats(from: from, to: to, channels: channels, announcements: announcements, daily: daily)
    }

    /// Per-channel figures from the two counts the engine queries for the window: messages
    /// and distinct posters per channel, and active readers per channel.
    public static func channelFigures(
        messages: [(channel: String, messages: Int, posters: Int)], readers: [(channel: String, readers: Int)]
    ) -> [EngagementStats.ChannelFigures] {
        var figures: [String: EngagementStats.ChannelFigures] = [:]
        for row in messages {
            figures[row.channel] = EngagementStats.ChannelFigures(
                channel: row.channel, messages: row.messages, activePosters: row.posters, activeReaders: 0)
        }
        for row in readers {
            figures[row.channel, default: .init(channel: row.channel, messages: 0, activePosters: 0, activeReaders: 0)]
                .activeReaders = row.readers
        }
        return figures.values.sorted { left, right in
            left.messages != right.messages ? left.messages > right.messages : left.channel < right.channel
        }
    }

    /// Which read times of an announcement with `reads` reads the engine fetches for the
    /// median, in read_at order: `limit` of them (one or two) after skipping `offset`.
    /// Nil when nobody read it.
    public static func middleReads(of reads: Int) -> (limit: Int, offset: Int)? {
        guard reads > 0 else { return nil }
        return (reads % 2 == 0 ? 2 : 1, (reads - 1) / 2)
    }

    /// The median time to read, from the middle read times (see `middleReads(of:)`) of an
    /// announcement posted at `postedAt`.
    public static func medianMillisToRead(middle: [Int64], postedAt: Int64) -> Int64? {
        guard let lower = middle.first, let upper = middle.last else { return nil }
        return (lower - postedAt) + (upper - lower) / 2
    }

    /// Daily figures for `dailyDays` from the active users counted per day; a day may come
    /// more than once (the engines count recorded days and open sessions apart), its
    /// counts add up.
    public func dailyFigures(activeUsers: [(day: Int64, users: Int)]) -> [EngagementStats.DayFigures] {
        guard let dailyDays else { return [] }
        var users: [Int64: Int] = [:]
        for row in activeUsers {
            users[row.day, default: 0] += row.users
        }
        return dailyDays.map { day in
            EngagementStats.DayFigures(day: Self.utcDate(daysSinceEpoch: day), activeUsers: users[day] ?? 0)
        }
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

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }
}
