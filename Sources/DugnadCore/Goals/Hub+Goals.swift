import DugnadProtocol
import NIOCore

extension Hub {
    /// Weeks in a goal's trend: two months, enough to see a direction.
    public static let goalTrendWeeks = 8

    /// Replaces the goals (admins only; the audit log records it). Targets are checked here,
    /// so that a bad one is refused before anything is stored.
    public func setGoals(_ targets: [(metric: GoalMetric, target: Double)], by actor: Principal) async throws
        -> [GoalRecord]
    {
        guard actor.isAdmin else { throw ProtocolError.forbidden("only admins can set goals") }
        var seen = Set<GoalMetric>()
        for (metric, target) in targets {
            guard seen.insert(metric).inserted else {
                throw ProtocolError.badRequest("'\(metric.rawValue)' is given twice")
            }
            guard target.isFinite, metric.targetRange.contains(target) else {
                let range = metric.targetRange
                throw ProtocolError.badRequest(
                    "the target of '\(metric.rawValue)' must be \(Int(range.lowerBound)) to \(Int(range.upperBound))")
            }
        }
        let now = WallClock.nowMillis()
        let records = targets.map { GoalRecord(metric: $0.metric, target: $0.target, setBy: actor.userID, setAt: now) }
            .sorted { $0.metric.order < $1.metric.order }
        let entry = AuditEntry.make(
            actor: actor.userID, .goalsSet, target: "goals",
            detail: records.map { ($0.metric.rawValue, .double($0.target)) }, at: now)
        _ = try await runAudited(.setGoals(records), entry)
        return records
    }

    /// The goals with where each figure stands now and at the end of each of the last
    /// `goalTrendWeeks` weeks (leaders and admins: the figures count no private channel).
    public func goals(by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<[GoalProgress]> {
        guard principal.isLeader || principal.isAdmin else {
            return loop.makeFailedFuture(ProtocolError.forbidden("only leaders and admins can see the goals"))
        }
        let now = WallClock.nowMillis()
        return read(on: loop) { store in
            let goals = try store.goals()
            guard !goals.isEmpty else { return [] }
            let weeks = try store.goalFigures(weekEnds: GoalFigures.weekEnds(weeks: Self.goalTrendWeeks, now: now))
            return goals.map { goal in
                let trend = weeks.map { $0.value(of: goal.metric) }
                return GoalProgress(goal: goal, current: trend.last ?? nil, trend: trend)
            }
        }
    }
}
