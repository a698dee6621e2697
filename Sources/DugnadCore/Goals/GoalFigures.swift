/// The counts behind every goal's figure for one week: the seven days (7 × 24 h) that end
/// at `to`. Every engine counts them alike (`Store.goalFigures(to:)`); the definitions:
///
/// - `people`: users in the directory created at or before `to` (bots are keys, not users).
/// - `activePeople`: of those, users with a session that was open at some time in the week.
/// - `audience`, `readWithin24h`: the recipients of announcements posted in the 7 × 24 h
///   that end 24 h before `to` (so every one of them had a full day), and those of them who
///   read it (an ack is also a read) within 24 h of its posting.
/// - `ackAudience`, `ackedWithin24h`: the same for announcements that require an ack.
/// - `leaderPosts`: messages in public and announce channels, and announcements, posted in
///   the week by users whose roles (as their token last said) include `leader`.
/// - `openChannels`, `activeChannels`: public and announce channels created by `to`, and
///   those of them with a message in the week. Private channels and their messages count
///   nowhere, so no figure tells anything about a channel to someone outside it.
public struct GoalFigures: Sendable, Equatable {
    public var people = 0
    public var activePeople = 0
    public var audience = 0
    public var readWithin24h = 0
    public var ackAudience = 0
    public var ackedWithin24h = 0
    public var leaderPosts = 0
    public var openChannels = 0
    public var activeChannels = 0

    public static let weekMillis: Int64 = 7 * 86_400_000
    public static let dayMillis: Int64 = 86_400_000

    public init(
        people: Int = 0, activePeople: Int = 0, audience: Int = 0, readWithin24h: Int = 0, ackAudience: Int = 0,
        ackedWithin24h: Int = 0, leaderPosts: Int = 0, openChannels: Int = 0, activeChannels: Int = 0
    ) {
        self.people = people
        self.activePeople = activePeople
        self.audience = audience
        self.readWithin24h = readWithin24h
        self.ackAudience = ackAudience
        self.ackedWithin24h = ackedWithin24h
        self.leaderPosts = leaderPosts
        self.openChannels = openChannels
        self.activeChannels = activeChannels
    }

    /// The figure of `metric`, a share rounded to one decimal; nil when there is nothing to
    /// count (a share of nobody is not 0 %).
    public func value(of metric: GoalMetric) -> Double? {
        switch metric {
        case .weeklyActivePct: Self.percent(activePeople, of: people)
        case .announcementReadWithin24hPct: Self.percent(readWithin24h, of: audience)
        case .announcementAckWithin24hPct: Self.percent(ackedWithin24h, of: ackAudience)
        case .leaderPostsPerWeek: Double(leaderPosts)
        case .channelsWithActivityPct: Self.percent(activeChannels, of: openChannels)
        }
    }

    static func percent(_ part: Int, of whole: Int) -> Double? {
        guard whole > 0 else { return nil }
        return (Double(part) * 1_000 / Double(whole)).rounded() / 10
    }

    /// The ends of the weeks of a trend of `weeks` weeks ending at `now`, oldest first.
    public static func weekEnds(weeks: Int, now: Int64) -> [Int64] {
        (0..<max(1, weeks)).reversed().map { now - Int64($0) * weekMillis }
    }
}
