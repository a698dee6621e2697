import DugnadCore
import DugnadProtocol
import DugnadTestSupport
import Foundation
import Testing

/// What one person can cost, and what one may learn (issue "who may see, who may speak"):
/// sizes, budgets per user rather than per connection, and least knowledge.
@Suite struct GovernanceLimitsTests {
    // MARK: Failure 3: sizes

    @Test func metaOver4KiBIsTooLargeOnWebSocketAndHTTP() async throws {
        let hub = try await TestHub.start()
        let ola = try await hub.connect("ola")
        try await ola.ok("join", [("channel", "general")])
        let big = JSONValue.object(JSONObject([("blob", .string(String(repeating: "x", count: 60_000)))]))
        let overWS = try await ola.request("publish", [("channel", "general"), ("body", "hi"), ("meta", big)])
        #expect(overWS.at("error", "code") == "too_large")
        let overHTTP = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels/general/messages", token: try await TestHub.token("ola"),
            body: #"{"body":"hi","meta":{"blob":"\#(String(repeating: "x", count: 60_000))"}}"#)
        #expect(overHTTP.status == 413)
        #expect(try await ola.ok("history", [("channel", "general")])["messages"]?.arrayValue?.isEmpty == true)
        await hub.stop()
    }

    @Test func historyAndRecoveryRepliesAreBoundedInBytesAndPageOn() async throws {
        let hub = try await TestHub.start { $0.hub.maxReplyBytes = 64 * 1024 }
        let ola = try await hub.connect("ola")
        try await ola.ok("join", [("channel", "general")])
        let body = JSONValue.string(String(repeating: "b", count: 16_000))
        let meta = JSONValue.object(JSONObject([("m", .string(String(repeating: "m", count: 4_000)))]))
        for _ in 0..<30 {
            try await ola.ok("publish", [("channel", "general"), ("body", body), ("meta", meta)])
        }
        // One page of 200 asked for: what fits in 64 KiB, the newest, and has_more.
        let first = try await ola.ok("history", [("channel", "general"), ("limit", 200)])
        let firstSeqs = first["messages"]?.arrayValue?.compactMap { $0["seq"]?.int64Value } ?? []
        #expect(first["has_more"] == true)
        #expect(!firstSeqs.isEmpty && firstSeqs.count < 30)
        #expect(first.jsonString().utf8.count < 64 * 1024 + 1_024)
        #expect(firstSeqs.last == 30, "the newest are kept")
        // Paging on with `before` reaches the oldest.
        var seen = Set(firstSeqs)
        var before = firstSeqs.min() ?? 1
        while before > 1 {
            let page = try await ola.ok("history", [("channel", "general"), ("before", .int(before)), ("limit", 200)])
            let seqs = page["messages"]?.arrayValue?.compactMap { $0["seq"]?.int64Value } ?? []
            #expect(!seqs.isEmpty)
            seen.formUnion(seqs)
            before = seqs.min() ?? 1
        }
        #expect(seen == Set(1...30))
        // Recovery from seq 0: the oldest that fit, truncated, and the client goes on.
        let other = try await hub.connect("kari")
        try await other.ok("join", [("channel", "general")])
        let recovered = try await other.ok("join", [("channel", "general"), ("since", 0)])
        #expect(recovered["truncated"] == true)
        let recoveredSeqs = recovered["messages"]?.arrayValue?.compactMap { $0["seq"]?.int64Value } ?? []
        #expect(recoveredSeqs.first == 1)
        #expect(recoveredSeqs.count < 30)
        await hub.stop()
    }

    @Test func theWelcomeLeavesOutWhatDoesNotFitAndTheClientListsTheRest() async throws {
        let hub = try await TestHub.start {
            $0.hub.maxReplyBytes = 64 * 1024
            $0.hub.announcesPerMinute = 100
        }
        let known = try await hub.connect("ola")
        await known.close()
        let leader = try await hub.connect("lea", roles: ["leader"])
        let body = JSONValue.string(String(repeating: "Les dette. ", count: 1_400))
        for index in 1...10 {
            try await leader.ok(
                "announce",
                [("title", .string("Notice \(index)")), ("body", body), ("audience", ["all": true]), ("require_ack", true)])
        }
        let ola = try await hub.connect("ola")
        let inWelcome = ola.welcome["announcements"]?.arrayValue ?? []
        #expect(!inWelcome.isEmpty && inWelcome.count < 10)
        #expect(ola.welcome["announcements_has_more"] == true)
        #expect(ola.welcome.jsonString().utf8.count < 64 * 1024 + 4_096)
        // The rest, a page at a time, newest first, each with Ola's own receipt.
        var listed: [JSONValue] = []
        var before: JSONValue?
        while true {
            var fields: [(String, JSONValue)] = [("received", true), ("limit", 3)]
            if let before { fields.append(("before", before)) }
            let page = try await ola.ok("announcements", fields)
            let items = page["announcements"]?.arrayValue ?? []
            listed += items
            guard page["has_more"] == true, let last = items.last?["id"] else { break }
            before = last
        }
        #expect(listed.count == 10)
        #expect(listed.compactMap { $0["title"]?.stringValue }.first == "Notice 10")
        #expect(listed.allSatisfy { $0["acked"] == false })
        // Leaders list what they posted, with figures; members may not.
        // (In pages too: ten of these are more than the 64 KiB a reply may take.)
        var posted: [JSONValue] = []
        var postedBefore: JSONValue?
        while true {
            var fields: [(String, JSONValue)] = [("author", "me"), ("limit", 50)]
            if let postedBefore { fields.append(("before", postedBefore)) }
            let page = try await leader.ok("announcements", fields)
            let items = page["announcements"]?.arrayValue ?? []
            posted += items
            guard page["has_more"] == true, let last = items.last?["id"] else { break }
            postedBefore = last
        }
        #expect(posted.count == 10)
        #expect(posted.first?.at("stats", "audience") == .int(1))
        #expect(try await ola.request("announcements", [("author", "me")]).at("error", "code") == "forbidden")
        let overHTTP = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/announcements?author=me&limit=2", token: try await TestHub.token("lea", roles: ["leader"]))
        #expect(overHTTP.status == 200)
        #expect(overHTTP.json["announcements"]?.arrayValue?.count == 2)
        #expect(overHTTP.json["has_more"] == true)
        await hub.stop()
    }

    @Test func aMessageThatWouldNotFitAFrameOnceEscapedIsTooLarge() async throws {
        let hub = try await TestHub.start()
        let ola = try await hub.connect("ola")
        try await ola.ok("join", [("channel", "general")])
        // 16,000 control characters: within the 16 KiB body, 96 KB once escaped as \u0001.
        // Over HTTP (a 1 MiB body limit), where such a request arrives whole.
        let escaped = String(repeating: "\\u0001", count: 16_000)
        let refused = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels/general/messages", token: try await TestHub.token("ola"),
            body: #"{"body":"\#(escaped)"}"#)
        #expect(refused.status == 413)
        #expect(refused.json.at("error", "message")?.stringValue?.contains("max_frame_bytes") == true)
        #expect(try await ola.ok("history", [("channel", "general")])["messages"]?.arrayValue?.isEmpty == true)
        await hub.stop()
    }

    @Test func anAnnouncementThatWouldNotFitAFrameIsTooLargeAndListingsAreBoundedInBytes() async throws {
        let hub = try await TestHub.start {
            $0.hub.maxReplyBytes = 64 * 1024
            $0.hub.announcesPerMinute = 100
        }
        let leaderToken = try await TestHub.token("lea", roles: ["leader"])
        let escaped = String(repeating: "\\u0001", count: 16_000)
        let refused = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/announcements", token: leaderToken,
            body: #"{"title":"Escaped","body":"\#(escaped)","audience":{"all":true}}"#)
        #expect(refused.status == 413)
        #expect(refused.json.at("error", "message")?.stringValue?.contains("max_frame_bytes") == true)
        // Twelve of 12 KiB each: a page of 50 would be 150 KB; it is cut to what fits in
        // 64 KiB and says there is more, for the author and for a recipient alike.
        let ola = try await hub.connect("ola")
        let leader = try await hub.connect("lea", roles: ["leader"])
        let body = JSONValue.string(String(repeating: "Les dette. ", count: 1_100))
        for index in 1...12 {
            try await leader.ok(
                "announce", [("title", .string("Notice \(index)")), ("body", body), ("audience", ["all": true])])
        }
        let posted = try await leader.ok("announcements", [("author", "me"), ("limit", 50)])
        let postedCount = posted["announcements"]?.arrayValue?.count ?? 0
        #expect(postedCount > 0 && postedCount < 12)
        #expect(posted["has_more"] == true)
        #expect(posted.jsonString().utf8.count < 64 * 1024 + 1_024)
        let received = try await ola.ok("announcements", [("received", true), ("limit", 50)])
        let receivedCount = received["announcements"]?.arrayValue?.count ?? 0
        #expect(receivedCount > 0 && receivedCount < 12)
        #expect(received["has_more"] == true)
        let overHTTP = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/announcements?author=me&limit=50", token: leaderToken)
        #expect(overHTTP.status == 200)
        #expect(overHTTP.json["announcements"]?.arrayValue?.count == postedCount)
        #expect(overHTTP.json["has_more"] == true)
        await hub.stop()
    }

    // MARK: Failure 4: budgets per connection

    @Test func publishesAreBudgetedPerUserAcrossConnections() async throws {
        let hub = try await TestHub.start {
            $0.hub.publishRate = 0.01
            $0.hub.publishBurst = 10
        }
        var clients: [TestClient] = []
        for _ in 0..<5 {
            let client = try await hub.connect("ola")
            try await client.ok("join", [("channel", "general")])
            clients.append(client)
        }
        var accepted = 0
        var limited = 0
        for round in 0..<8 {
            for client in clients {
                let reply = try await client.request("publish", [("channel", "general"), ("body", .string("r\(round)"))])
                if reply["ok"] == true { accepted += 1 } else if reply.at("error", "code") == "rate_limited" { limited += 1 }
            }
        }
        #expect(accepted <= 11, "5 connections of one user share one burst of 10 (got \(accepted))")
        #expect(accepted >= 10)
        #expect(limited == 40 - accepted)
        // Another user has a budget of their own.
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "general")])
        try await kari.ok("publish", [("channel", "general"), ("body", "mine")])
        await hub.stop()
    }

    @Test func atMostOneTypingEventPerUserAndChannelPerIntervalReachesAnyone() async throws {
        let hub = try await TestHub.start { $0.hub.typingIntervalMillis = 60_000 }
        let watcher = try await hub.connect("watcher")
        try await watcher.ok("join", [("channel", "general")])
        var typists: [TestClient] = []
        for _ in 0..<4 {
            let client = try await hub.connect("ola")
            try await client.ok("join", [("channel", "general")])
            typists.append(client)
        }
        for _ in 0..<20 {
            for client in typists { try await client.ok("typing", [("channel", "general")]) }
        }
        // A message after the typing burst: once it is here, every typing event sent
        // before it has been delivered too (one connection, in order).
        try await typists[0].ok("publish", [("channel", "general"), ("body", "done typing")])
        _ = try await watcher.next(type: "message", timeout: .seconds(30))
        let typing = await watcher.collect(type: "typing", for: .milliseconds(200))
        #expect(typing.count == 1, "80 typing commands from one user, one event (got \(typing.count))")
        await hub.stop()
    }

    @Test func announcementsAreBudgetedPerUser() async throws {
        let hub = try await TestHub.start { $0.hub.announcesPerMinute = 3 }
        let leader = try await hub.connect("lea", roles: ["leader"])
        var codes: [String] = []
        for index in 0..<5 {
            let reply = try await leader.request(
                "announce", [("title", .string("t\(index)")), ("body", "b"), ("audience", ["all": true])])
            codes.append(reply["ok"] == true ? "ok" : reply.at("error", "code")?.stringValue ?? "?")
        }
        #expect(codes == ["ok", "ok", "ok", "rate_limited", "rate_limited"])
        await hub.stop()
    }

    @Test func aReminderComesAtMostOncePerInterval() async throws {
        let hub = try await TestHub.start()
        let leader = try await hub.connect("lea", roles: ["leader"])
        let posted = try await leader.ok(
            "announce", [("title", "Fire drill"), ("body", "At 10."), ("audience", ["all": true]), ("require_ack", true)])
        let id = try #require(posted.at("announcement", "id"))
        try await leader.ok("remind", [("announcement_id", id)])
        let second = try await leader.request("remind", [("announcement_id", id)])
        #expect(second.at("error", "code") == "rate_limited")
        #expect((second.at("error", "retry_after_ms")?.int64Value ?? 0) > 60_000)
        await hub.stop()
    }

    // MARK: Least knowledge

    @Test func aPublishOnlyKeyCannotReadOverWebSocketAndMissingLooksLikePrivate() async throws {
        let hub = try await TestHub.start()
        _ = try await hub.app.hub.createChannel(name: "hr", kind: .private, title: "HR")
        let (key, record) = APIKeys.make(name: "poster", scopes: ["publish"], channels: [], now: WallClock.nowMillis())
        _ = try hub.app.hub.store.write([.createAPIKey(record)])
        let bot = try await hub.rawConnect(headers: [("Authorization", "Bearer \(key)")])
        _ = try await bot.next(type: "welcome")
        let people = try await hub.connect("ola")
        try await people.ok("join", [("channel", "general")])
        try await bot.ok("publish", [("channel", "general"), ("body", "from the bot")])
        let history = try await bot.request("history", [("channel", "general")])
        #expect(history.at("error", "code") == "forbidden")
        let join = try await bot.request("join", [("channel", "general")])
        #expect(join.at("error", "code") == "forbidden")
        // Over HTTP, a key that does not reach a private channel and a missing channel
        // answer alike.
        let (reader, readRecord) = APIKeys.make(name: "reader", scopes: ["read"], channels: [], now: WallClock.nowMillis())
        _ = try hub.app.hub.store.write([.createAPIKey(readRecord)])
        let hidden = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels/hr/messages", token: reader)
        let missing = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels/nowhere/messages", token: reader)
        #expect(hidden.status == 403)
        #expect(missing.status == hidden.status)
        #expect(
            missing.json.at("error", "message")?.stringValue
                == hidden.json.at("error", "message")?.stringValue?.replacingOccurrences(of: "'hr'", with: "'nowhere'"))
        await hub.stop()
    }

    @Test func leadersFiguresLeaveOutPrivateChannelsTheyCannotRead() async throws {
        let hub = try await TestHub.start()
        _ = try await hub.app.hub.createChannel(name: "board", kind: .private, title: "Board")
        let insider = try await hub.connect("kari", channels: ["board"])
        try await insider.ok("join", [("channel", "board")])
        try await insider.ok("publish", [("channel", "board"), ("body", "secret plans")])
        try await insider.ok("join", [("channel", "general")])
        try await insider.ok("publish", [("channel", "general"), ("body", "hello all")])
        let leaderToken = try await TestHub.token("lea", roles: ["leader"])
        let asLeader = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/stats?days=1", token: leaderToken)
        #expect(asLeader.status == 200)
        let leaderChannels = asLeader.json["channels"]?.arrayValue?.compactMap { $0["channel"]?.stringValue } ?? []
        #expect(leaderChannels.contains("general"))
        #expect(!leaderChannels.contains("board"))
        let adminToken = try await TestHub.token("boss", roles: ["admin"])
        let asAdmin = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/stats?days=1", token: adminToken)
        #expect(asAdmin.json["channels"]?.arrayValue?.compactMap { $0["channel"]?.stringValue }.contains("board") == true)
        await hub.stop()
    }

    @Test func everyHTTPResponseForbidsFramingAndSniffing() async throws {
        let hub = try await TestHub.start()
        for path in ["/", "/healthz", "/api/v1/channels", "/no-such-file"] {
            let response = try await RawHTTP.get(port: hub.port, path)
            #expect(response.headers["x-frame-options"] == "DENY", "\(path)")
            #expect(response.headers["content-security-policy"] == "frame-ancestors 'none'", "\(path)")
            #expect(response.headers["x-content-type-options"] == "nosniff", "\(path)")
        }
        await hub.stop()
    }
}
