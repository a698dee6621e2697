/// The figures an admin may set a target for (`PUT /api/v1/goals`): the measures that tell
/// whether the intranet delivers what it was bought for — people take part, leaders reach
/// them, groups talk. Each figure's exact definition is in `GoalFigures` and
/// docs/http-api.md ("Goals").
public enum GoalMetric: String, CaseIterable, Sendable, Codable {
    case weeklyActivePct = "weekly_active_pct"
    case announcementReadWithin24hPct = "announcement_read_within_24h_pct"
    case announcementAckWithin24hPct = "announcement_ack_within_24h_pct"
    case leaderPostsPerWeek = "leader_posts_per_week"
    case channelsWithActivityPct = "channels_with_activity_pct"

    /// The targets that make sense: a share is 0 to 100; posts a week are counted, and a
    /// million a week is far beyond any workplace.
    public var targetRange: ClosedRange<Double> {
        self == .leaderPostsPerWeek ? 0...1_000_000 : 0...100
    }

    /// Goals are listed in the order of the cases (people, leaders' reach, leaders'
    /// presence, groups), whatever order they were set in.
    public var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }
}

/// A target an admin set, as stored.
public struct GoalRecord: Sendable, Equatable {
    public var metric: GoalMetric
    public var target: Double
    /// The admin (user id, or `bot:<key id>`) who set it, and when (ms since the epoch).
    public var setBy: String
    public var setAt: Int64

    public init(metric: GoalMetric, target: Double, setBy: String, setAt: Int64) {
        self.metric = metric
        self.target = target
        self.setBy = setBy
        self.setAt = setAt
    }
}

/// A goal as leaders and admins see it: the target, where the figure stands now, and where
/// it stood at the end of each of the last weeks (oldest first, the current week last).
public struct GoalProgress: Sendable, Equatable {
    public var goal: GoalRecord
    /// nil when the figure has nothing to count yet (no people, no announcements, no channels).
    public var current: Double?
    public var trend: [Double?]
}
