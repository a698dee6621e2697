import DugnadCore
import DugnadProtocol
import Foundation
import Testing

/// Section 8: bots and integrations over HTTP, with API keys.
@Suite struct HTTPAPITests {
    private func makeKey(_ hub: TestHub, name: String, scopes: [String], channels: [String] = []) throws -> String {
        let (key, record) = APIKeys.make(name: name, scopes: scopes, channels: channels, now: WallClock.nowMillis())
        let result = try hub.app.hub.store.write([.createAPIKey(record)])
        guard case .success = result.first else { throw TestFailure("key not stored: \(result)") }
        return key
    }

    @Test func aBotPostsAMessageAndAnAnnouncementOverHTTPAndSubscribersReceiveThem() async throws {
        let hub = try await TestHub.start()
        let key = try makeKey(hub, name: "deploy-bot", scopes: ["publish", "announce", "read"])
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "deploys")])

        let posted = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels/deploys/messages", token: key,
            body: #"{"body":"v2.3 is live","client_id":"deploy-77"}"#)
        #expect(posted.status == 201)
        #expect(posted.json.at("message", "from", "name") == "deploy-bot")
        let event = try await kari.next(type: "message")
        #expect(event["body"] == "v2.3 is live")
        let retried = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels/deploys/messages", token: key,
            body: #"{"body":"v2.3 is live","client_id":"deploy-77"}"#)
        #expect(retried.status == 200, "a retry answers 200 with the first message")
        #expect(retried.json.at("message", "id") == posted.json.at("message", "id"))

        let announced = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/announcements", token: key,
            body: #"{"title":"Maintenance tonight","body":"22:00-23:00","audience":{"all":true},"priority":"important"}"#)
        #expect(announced.status == 201)
        let announcement = try await kari.next(type: "announcement")
        #expect(announcement["title"] == "Maintenance tonight")

        let history = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels/deploys/messages?limit=10", token: key)
        #expect(history.status == 200)
        #expect(history.json["messages"]?.arrayValue?.count == 1)
        #expect(history.json["has_more"] == false)
        let presence = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels/deploys/presence", token: key)
        #expect(presence.json["presence"]?.arrayValue?.first?["id"] == "kari")
        let channels = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels", token: key)
        #expect(channels.json["channels"]?.arrayValue?.contains { $0["name"] == "deploys" } == true)
        let id = announced.json.at("announcement", "id")?.stringValue ?? ""
        let fetched = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/announcements/\(id)", token: key)
        #expect(fetched.status == 200)
        #expect(fetched.json.at("stats", "audience") == .int(1))
        await hub.stop()
    }

    @Test func wrongMissingOrRevokedKeysAreRefusedAndNothingIsStored() async throws {
        let hub = try await TestHub.start()
        let readOnly = try makeKey(hub, name: "reader", scopes: ["read"])
        let body = #"{"body":"should not be stored"}"#
        let missing = try await RawHTTP.json(port: hub.port, "POST", "/api/v1/channels/general/messages", body: body)
        #expect(missing.status == 401)
        #expect(missing.json.at("error", "code") == "unauthorized")
        let wrong = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels/general/messages", token: "dgn_notakey", body: body)
        #expect(wrong.status == 401)
        let noScope = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels/general/messages", token: readOnly, body: body)
        #expect(noScope.status == 403)
        let member = try await TestHub.token("kari")
        let memberAnnounces = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/announcements", token: member,
            body: #"{"title":"x","body":"y","audience":{"all":true}}"#)
        #expect(memberAnnounces.status == 403)

        let writer = try makeKey(hub, name: "writer", scopes: ["publish", "read"])
        let kariClient = try await hub.connect("kari")
        try await kariClient.ok("join", [("channel", "general")])
        let revokeResult = try hub.app.hub.store.write([.revokeAPIKey(idOrName: "writer", at: WallClock.nowMillis())])
        guard case .success = revokeResult.first else { throw TestFailure("revoke failed") }
        let revoked = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels/general/messages", token: writer, body: body)
        #expect(revoked.status == 401)
        #expect(revoked.json.at("error", "message")?.stringValue?.contains("key_revoked") == true)

        let page = try await kariClient.ok("history", [("channel", "general")])
        #expect(page["messages"]?.arrayValue?.isEmpty == true, "nothing was stored")
        await hub.stop()
    }

    @Test func aRevokedKeyIsClosedWith4500OnAnOpenWebSocket() async throws {
        let hub = try await TestHub.start()
        let key = try makeKey(hub, name: "live-bot", scopes: ["publish", "read"])
        let bot = try await hub.rawConnect(headers: [("Authorization", "Bearer \(key)")])
        let welcome = try await bot.next(type: "welcome")
        #expect(welcome.at("user", "name") == "live-bot")
        _ = try hub.app.hub.store.write([.revokeAPIKey(idOrName: "live-bot", at: WallClock.nowMillis())])
        // Revocations are checked every second.
        let closed = try await bot.closed()
        #expect(closed.code == 4500)
        #expect(closed.reason == "key_revoked")
        let again = try await hub.rawConnect(headers: [("Authorization", "Bearer \(key)")])
        #expect(try await again.closed().code == 4500)
        await hub.stop()
    }

    @Test func keysAreRateLimitedWithRetryAfter() async throws {
        // A rate so low that nothing refills during the test, however slow the machine.
        let hub = try await TestHub.start {
            $0.hub.apiKeyRate = 0.001; $0.hub.apiKeyBurst = 3
        }
        let key = try makeKey(hub, name: "chatty", scopes: ["read"])
        var statuses: [Int] = []
        var retryAfter: String?
        for _ in 0..<6 {
            let response = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels", token: key)
            statuses.append(response.status)
            if response.status == 429 { retryAfter = response.headers["retry-after"] }
        }
        #expect(statuses == [200, 200, 200, 429, 429, 429])
        #expect(retryAfter != nil)
        await hub.stop()
    }

    @Test func adminsImportUsersSoThatAnnouncementsToAllReachPeopleWhoNeverConnected() async throws {
        let hub = try await TestHub.start()
        let admin = try await TestHub.token("root", roles: ["admin"])
        let member = try await TestHub.token("kari")
        let users =
            #"{"users":[{"id":"u1","name":"Ada","roles":["member"]},{"id":"u2","name":"Bo"},{"id":"u3","name":"Cy","roles":["leader"]}]}"#
        let refused = try await RawHTTP.json(port: hub.port, "POST", "/api/v1/users", token: member, body: users)
        #expect(refused.status == 403)
        let imported = try await RawHTTP.json(port: hub.port, "POST", "/api/v1/users", token: admin, body: users)
        #expect(imported.status == 200)
        #expect(imported.json["imported"] == .int(3))
        let bad = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/users", token: admin, body: #"{"users":[{"name":"no id"}]}"#)
        #expect(bad.status == 400)

        let posted = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/announcements", token: admin,
            body: #"{"title":"Welcome","body":"Hello all","audience":{"all":true},"require_ack":true}"#)
        #expect(posted.status == 201)
        #expect(posted.json.at("announcement", "audience_count") == .int(3))
        let created = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels", token: admin, body: #"{"name":"board","kind":"private","title":"Board"}"#)
        #expect(created.status == 201)
        let conflict = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels", token: admin, body: #"{"name":"board","kind":"private","title":"Board"}"#)
        #expect(conflict.status == 409)
        let hidden = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels", token: member)
        #expect(hidden.json["channels"]?.arrayValue?.contains { $0["name"] == "board" } == false)
        await hub.stop()
    }

    @Test func theStatsEndpointMatchesAKnownScenario() async throws {
        let hub = try await TestHub.start()
        let leader = try await hub.connect("boss", roles: ["leader"])
        let kari = try await hub.connect("kari")
        let ola = try await hub.connect("ola")
        for client in [kari, ola] { try await client.ok("join", [("channel", "team")]) }
        try await kari.ok("publish", [("channel", "team"), ("body", "one")])
        try await kari.ok("publish", [("channel", "team"), ("body", "two")])
        try await ola.ok("publish", [("channel", "team"), ("body", "three")])
        try await ola.ok("join", [("channel", "quiet")])
        let posted = try await leader.ok(
            "announce", [("title", "Survey"), ("body", "Please answer"), ("audience", ["all": true]), ("require_ack", true)])
        let id = try #require(posted.at("announcement", "id"))
        try await kari.ok("ack", [("announcement_id", id), ("kind", "ack")])

        let token = try await TestHub.token("boss", roles: ["leader"])
        let refused = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/stats?days=30", token: try await TestHub.token("kari"))
        #expect(refused.status == 403)
        let stats = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/stats?days=30", token: token)
        #expect(stats.status == 200)
        let team = stats.json["channels"]?.arrayValue?.first { $0["channel"] == "team" }
        #expect(team?["messages"] == .int(3))
        #expect(team?["active_posters"] == .int(2))
        #expect(team?["active_readers"] == .int(2), "publishing moves the poster's read position")
        let survey = stats.json["announcements"]?.arrayValue?.first { $0["id"] == id }
        #expect(survey?["audience"] == .int(2))
        #expect(survey?["acked"] == .int(1))
        #expect(survey?["read"] == .int(1))
        #expect(survey?["ack_pct"] == .double(50))
        let today = stats.json["daily_active_users"]?.arrayValue?.last
        #expect(today?["users"] == .int(3))
        let bad = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/stats?days=zero", token: token)
        #expect(bad.status == 400)
        await hub.stop()
    }
}
