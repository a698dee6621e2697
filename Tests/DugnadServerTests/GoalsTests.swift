import DugnadCore
import DugnadProtocol
import Testing

/// `PUT` and `GET /api/v1/goals` on a real hub: who may set and see goals, what bad input
/// gets, and figures that match a scenario whose answers are known.
@Suite struct GoalsTests {
    @Test func goalsMatchAKnownScenarioAndOnlyAdminsSetThem() async throws {
        let hub = try await TestHub.start()
        // Three people connected (active this week) and one in the directory who never did.
        let leader = try await hub.connect("boss", roles: ["leader"])
        let kari = try await hub.connect("kari")
        _ = try await hub.connect("ola")
        _ = try hub.app.hub.store.write([.importUsers([UserRecord(id: "per", name: "Per", roles: [], lastSeen: nil)])])
        // Two public channels, one with a message this week (the leader's).
        try await leader.ok("join", [("channel", "team")])
        try await kari.ok("join", [("channel", "quiet")])
        try await leader.ok("publish", [("channel", "team"), ("body", "God morgen!")])

        let admin = try await TestHub.token("ada", roles: ["admin"])
        let leaderToken = try await TestHub.token("boss", roles: ["leader"])
        let member = try await TestHub.token("kari")

        let none = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/goals", token: leaderToken)
        #expect(none.status == 200)
        #expect(none.json["goals"] == .array([]))

        let body = #"""
            {"goals":[{"metric":"weekly_active_pct","target":80},{"metric":"leader_posts_per_week","target":3},
                      {"metric":"channels_with_activity_pct","target":60},{"metric":"announcement_read_within_24h_pct","target":90}]}
            """#
        let byMember = try await RawHTTP.json(port: hub.port, "PUT", "/api/v1/goals", token: member, body: body)
        #expect(byMember.status == 403)
        let set = try await RawHTTP.json(port: hub.port, "PUT", "/api/v1/goals", token: admin, body: body)
        #expect(set.status == 200)
        #expect(set.json["goals"]?.arrayValue?.count == 4)

        let seenByMember = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/goals", token: member)
        #expect(seenByMember.status == 403)
        let seen = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/goals", token: leaderToken)
        #expect(seen.status == 200)
        let goals = try #require(seen.json["goals"]?.arrayValue)
        func goal(_ metric: String) -> JSONValue? { goals.first { $0["metric"] == .string(metric) } }
        // In GoalMetric order, whatever order they were sent in.
        #expect(
            goals.compactMap { $0["metric"]?.stringValue } == [
                "weekly_active_pct", "announcement_read_within_24h_pct", "leader_posts_per_week",
                "channels_with_activity_pct",
            ])
        #expect(goal("weekly_active_pct")?["current"] == .double(75))  // 3 of 4 people
        #expect(goal("weekly_active_pct")?["target"] == .double(80))
        #expect(goal("weekly_active_pct")?["set_by"] == .string("ada"))
        #expect(goal("leader_posts_per_week")?["current"] == .double(1))
        #expect(goal("channels_with_activity_pct")?["current"] == .double(50))  // team of team and quiet
        // No announcement is a day old yet: nothing to count, which is not 0 %.
        #expect(goal("announcement_read_within_24h_pct")?["current"] == .null)
        let trend = try #require(goal("weekly_active_pct")?["trend"]?.arrayValue)
        #expect(trend.count == Hub.goalTrendWeeks)
        #expect(trend.last == .double(75))

        let audit = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/audit", token: admin)
        #expect(audit.json["entries"]?.arrayValue?.first?["action"] == .string("goals.set"))
        await hub.stop()
    }

    @Test(arguments: [
        #"{"goals":[{"metric":"happiness_pct","target":50}]}"#,
        #"{"goals":[{"metric":"weekly_active_pct","target":150}]}"#,
        #"{"goals":[{"metric":"leader_posts_per_week","target":-1}]}"#,
        #"{"goals":[{"metric":"weekly_active_pct","target":"high"}]}"#,
        #"{"goals":[{"metric":"weekly_active_pct","target":50},{"metric":"weekly_active_pct","target":60}]}"#,
        #"{"goals":{"metric":"weekly_active_pct","target":50}}"#,
        #"{"goals":[7]}"#,
        #"[1,2]"#,
        #"not json"#,
    ])
    func badGoalsAreRefusedAndChangeNothing(_ body: String) async throws {
        let hub = try await TestHub.start()
        let admin = try await TestHub.token("ada", roles: ["admin"])
        let kept = #"{"goals":[{"metric":"weekly_active_pct","target":70}]}"#
        #expect(try await RawHTTP.json(port: hub.port, "PUT", "/api/v1/goals", token: admin, body: kept).status == 200)

        let refused = try await RawHTTP.json(port: hub.port, "PUT", "/api/v1/goals", token: admin, body: body)
        #expect(refused.status == 400)
        #expect(refused.json.at("error", "message")?.stringValue?.isEmpty == false)
        let goals = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/goals", token: admin)
        #expect(goals.json["goals"]?.arrayValue?.map { $0["target"] } == [.double(70)])
        await hub.stop()
    }
}
