import DugnadCore
import DugnadProtocol
import NIOCore

extension APIRouter {
    /// `PUT /api/v1/goals` (admins): `{"goals":[{"metric":…,"target":…}]}` replaces every
    /// goal; an empty list clears them.
    func putGoals(_ body: ByteBuffer?, by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        let targets: [(metric: GoalMetric, target: Double)]
        do {
            targets = try Self.goalTargets(body)
        } catch {
            return loop.makeSucceededFuture(.error(Hub.protocolError(error)))
        }
        let hub = app.hub
        let promise = loop.makePromise(of: [GoalRecord].self)
        promise.completeWithTask { try await hub.setGoals(targets, by: principal) }
        return promise.futureResult.map { goals in
            .json(.ok) { writer in
                writer.key("goals")
                writer.beginArray()
                for goal in goals { Self.writeGoal(goal, into: &writer) { _ in } }
                writer.endArray()
            }
        }
    }

    /// `GET /api/v1/goals` (leaders, admins): each goal with `current` and `trend`.
    func getGoals(by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        app.hub.goals(by: principal, on: loop).map { progress in
            .json(.ok) { writer in
                writer.key("goals")
                writer.beginArray()
                for item in progress {
                    Self.writeGoal(item.goal, into: &writer) { writer in
                        writer.key("current")
                        if let current = item.current { writer.double(current) } else { writer.null() }
                        writer.key("trend")
                        writer.beginArray()
                        for value in item.trend {
                            if let value { writer.double(value) } else { writer.null() }
                        }
                        writer.endArray()
                    }
                }
                writer.endArray()
            }
        }
    }

    private static func writeGoal(_ goal: GoalRecord, into writer: inout JSONWriter, more: (inout JSONWriter) -> Void) {
        writer.beginObject()
        writer.field("metric", goal.metric.rawValue)
        writer.field("target", goal.target)
        writer.field("set_by", goal.setBy)
        writer.field("set_at", goal.setAt)
        more(&writer)
        writer.endObject()
    }

    /// The body's goals: known metrics, numeric targets (their ranges are the hub's to check).
    static func goalTargets(_ body: ByteBuffer?) throws -> [(metric: GoalMetric, target: Double)] {
        let object = try jsonObject(body)
        guard let goals = object["goals"]?.arrayValue, goals.count <= GoalMetric.allCases.count else {
            throw ProtocolError.badRequest("'goals' must be an array of at most \(GoalMetric.allCases.count) goals")
        }
        let known = GoalMetric.allCases.map(\.rawValue).joined(separator: ", ")
        return try goals.map { value in
            guard case .object(let goal) = value, let name = goal["metric"]?.stringValue else {
                throw ProtocolError.badRequest("each goal must be an object with 'metric' and 'target'")
            }
            guard let metric = GoalMetric(rawValue: name) else {
                throw ProtocolError.badRequest("unknown metric '\(name.prefix(64))'; known: \(known)")
            }
            guard let target = goal["target"]?.doubleValue else {
                throw ProtocolError.badRequest("the target of '\(name)' must be a number")
            }
            return (metric, target)
        }
    }
}
