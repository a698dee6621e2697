import DugnadCore
import DugnadProtocol
import DugnadTestSupport
import Foundation
import Testing

/// Governance (contract §9, issue "who may see, who may speak"): each failure found on the
/// old main is a test here, on a real hub with real clients.
@Suite struct GovernanceTests {
    // MARK: Failure 1: access could not be taken away

    @Test func aClaimThatIsGoneNoLongerReadsOrJoinsAPrivateChannel() async throws {
        let hub = try await TestHub.start()
        _ = try await hub.app.hub.createChannel(name: "payroll", kind: .private, title: "Payroll")
        let withClaim = try await hub.connect("ola", channels: ["payroll"])
        try await withClaim.ok("join", [("channel", "payroll")])
        try await withClaim.ok("publish", [("channel", "payroll"), ("body", "salaries are in")])
        await withClaim.close()

        // A new token without the claim: the membership made through the claim is gone.
        let without = try await hub.connect("ola")
        let listed = without.welcome["channels"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(!listed.contains("payroll"), "the welcome lists only what the token reaches now")
        let history = try await without.request("history", [("channel", "payroll")])
        #expect(history.at("error", "code") == "forbidden")
        let join = try await without.request("join", [("channel", "payroll")])
        #expect(join.at("error", "code") == "forbidden")
        let members = try await without.request("members", [("channel", "payroll")])
        #expect(members.at("error", "code") == "forbidden")
        await hub.stop()
    }

    @Test func aRefreshWithoutTheClaimEndsTheSubscriptionWithRemoved() async throws {
        let hub = try await TestHub.start()
        _ = try await hub.app.hub.createChannel(name: "payroll", kind: .private, title: "Payroll")
        let ola = try await hub.connect("ola", channels: ["payroll"])
        try await ola.ok("join", [("channel", "payroll")])
        try await ola.ok("join", [("channel", "general")])
        try await ola.ok("refresh", [("token", .string(try await TestHub.token("ola")))])
        let removed = try await ola.next(type: "removed", timeout: .seconds(30))
        #expect(removed["channel"] == "payroll")
        #expect(removed["reason"] == "access_ended")
        #expect(try await ola.request("history", [("channel", "payroll")]).at("error", "code") == "forbidden")
        #expect(try await ola.request("presence", [("channel", "payroll")]).at("error", "code") == "forbidden")
        #expect(try await ola.request("typing", [("channel", "payroll")]).at("error", "code") == "forbidden")
        // What the token still reaches stays.
        try await ola.ok("history", [("channel", "general")])
        await hub.stop()
    }

    @Test func anAdminGrantsAndRemovesMembersAndTheRemovalEndsLiveSubscriptions() async throws {
        let hub = try await TestHub.start()
        let admin = try await TestHub.token("boss", roles: ["admin"])
        let created = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels", token: admin, body: #"{"name":"board","kind":"private"}"#)
        #expect(created.status == 201)
        let ola = try await hub.connect("ola")
        #expect(try await ola.request("join", [("channel", "board")]).at("error", "code") == "forbidden")

        let granted = try await RawHTTP.json(port: hub.port, "PUT", "/api/v1/channels/board/members/ola", token: admin)
        #expect(granted.status == 201)
        let again = try await RawHTTP.json(port: hub.port, "PUT", "/api/v1/channels/board/members/ola", token: admin)
        #expect(again.status == 200)
        try await ola.ok("join", [("channel", "board")])
        try await ola.ok("publish", [("channel", "board"), ("body", "thanks for having me")])
        let listed = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels/board/members", token: admin)
        #expect(listed.status == 200)
        #expect(listed.json["members"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["ola"])
        let asMember = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/channels/board/members", token: try await TestHub.token("ola"))
        #expect(asMember.status == 200, "members may list their channel's members")
        let outsider = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/channels/board/members", token: try await TestHub.token("per"))
        #expect(outsider.status == 403)

        let removed = try await RawHTTP.json(port: hub.port, "DELETE", "/api/v1/channels/board/members/ola", token: admin)
        #expect(removed.status == 204)
        let event = try await ola.next(type: "removed", timeout: .seconds(30))
        #expect(event["channel"] == "board")
        #expect(event["reason"] == "removed_by_admin")
        #expect(try await ola.request("history", [("channel", "board")]).at("error", "code") == "forbidden")
        #expect(try await ola.request("join", [("channel", "board")]).at("error", "code") == "forbidden")
        // Members (not admins) may not change membership.
        let notAdmin = try await RawHTTP.json(
            port: hub.port, "PUT", "/api/v1/channels/board/members/per", token: try await TestHub.token("ola"))
        #expect(notAdmin.status == 403)
        await hub.stop()
    }

    @Test func aBanClosesEverySocketWith4500AndRefusesNewOnes() async throws {
        let hub = try await TestHub.start()
        let admin = try await TestHub.token("boss", roles: ["admin"])
        let first = try await hub.connect("troll")
        let second = try await hub.connect("troll")
        let banned = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/users/troll/ban", token: admin, body: #"{"reason":"spam"}"#)
        #expect(banned.status == 200)
        #expect(banned.json.at("ban", "reason") == "spam")
        for client in [first, second] {
            let closed = try await client.closed(timeout: .seconds(30))
            #expect(closed.code == 4500)
            #expect(closed.reason == "banned")
        }
        let retry = try await hub.rawConnect(path: "/ws?token=\(try await TestHub.token("troll"))")
        let refused = try await retry.closed(timeout: .seconds(30))
        #expect(refused.code == 4500)
        #expect(refused.reason == "banned")
        let overHTTP = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/channels", token: try await TestHub.token("troll"))
        #expect(overHTTP.status == 403)

        let lifted = try await RawHTTP.json(port: hub.port, "DELETE", "/api/v1/users/troll/ban", token: admin)
        #expect(lifted.status == 204)
        let back = try await hub.connect("troll")
        #expect(back.welcome.at("user", "id") == "troll")
        await hub.stop()
    }

    // MARK: Failure 2: private names could be squatted

    @Test func aJoinNeverCreatesANameInTheClaimForAnAdminOrAReservedName() async throws {
        let hub = try await TestHub.start { $0.hub.reservedChannels = ReservedChannelNames(["hr*"]) }
        let early = try await hub.connect("ola", channels: ["board"])
        let squat = try await early.request("join", [("channel", "board")])
        #expect(squat.at("error", "code") == "forbidden")
        let adminClient = try await hub.connect("boss", roles: ["admin"])
        let adminJoin = try await adminClient.request("join", [("channel", "strategy")])
        #expect(adminJoin.at("error", "code") == "not_found")
        let reserved = try await early.request("join", [("channel", "hr-cases")])
        #expect(reserved.at("error", "code") == "forbidden")
        #expect(
            reserved.at("error", "message")?.stringValue
                == squat.at("error", "message")?.stringValue?.replacingOccurrences(of: "board", with: "hr-cases"),
            "a refused creation answers as a private channel does")
        for name in ["board", "strategy", "hr-cases"] {
            #expect(try hub.app.hub.store.channel(named: name) == nil, "\(name) was created")
        }
        // The admin creates it, as private, without a conflict.
        let admin = try await TestHub.token("boss", roles: ["admin"])
        let created = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels", token: admin, body: #"{"name":"board","kind":"private"}"#)
        #expect(created.status == 201)
        #expect(created.json.at("channel", "kind") == "private")
        try await early.ok("join", [("channel", "board")])
        // An ordinary public name is still created on join.
        try await early.ok("join", [("channel", "lunch")])
        #expect(try hub.app.hub.store.channel(named: "lunch")?.kind == .public)
        await hub.stop()
    }

    @Test func channelsMadeByJoinAreLimitedPerUserPerDay() async throws {
        let hub = try await TestHub.start { $0.hub.channelCreationsPerDay = 3 }
        let ola = try await hub.connect("ola")
        for name in ["a-1", "a-2", "a-3"] { try await ola.ok("join", [("channel", .string(name))]) }
        let fourth = try await ola.request("join", [("channel", "a-4")])
        #expect(fourth.at("error", "code") == "rate_limited")
        #expect((fourth.at("error", "retry_after_ms")?.int64Value ?? 0) > 0)
        // The limit is the user's, whatever connection asks.
        let other = try await hub.connect("ola")
        #expect(try await other.request("join", [("channel", "a-5")]).at("error", "code") == "rate_limited")
        // Joining channels that exist is not creating.
        try await other.ok("join", [("channel", "a-1")])
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "b-1")])
        await hub.stop()
    }
}
