import DugnadCore
import DugnadProtocol
import DugnadTestSupport
import Foundation
import Testing

/// Full-text search (contract §9, "People") on a real hub with real clients, on SQLite and
/// (with DUGNAD_TEST_LIVE_POSTGRES_URL) on PostgreSQL: what is found, who finds what, the
/// filters and the bound, and bad queries answered clearly.
@Suite struct SearchTests {
    private static func bodies(_ reply: JSONValue) -> [String] {
        reply["messages"]?.arrayValue?.compactMap { $0["body"]?.stringValue } ?? []
    }

    /// A hub where Ola has written in `kaffe`, a public channel.
    /// (`lifted`: a search budget that these tests' many searches never reach.)
    private static func hubWithConversation(lifted: Bool = false) async throws -> (TestHub, TestClient) {
        let hub = try await TestHub.start { configuration in
            if lifted { (configuration.hub.searchRate, configuration.hub.searchBurst) = (1_000, 1_000) }
        }
        let ola = try await hub.connect("ola", name: "Ola Hansen")
        try await ola.ok("join", [("channel", "kaffe")])
        for body in [
            "Årsmøtet er flyttet til torsdag", "Kaffemaskinen er ødelagt igjen", "Vi trenger KAFFE og kake",
            "Får vi kake?", "far kommer i morgen",
        ] {
            try await ola.ok("publish", [("channel", "kaffe"), ("body", .string(body))])
        }
        return (hub, ola)
    }

    @Test func findsPrefixesAndWholeWordsWithNorwegianLettersAndMarksThem() async throws {
        let (hub, ola) = try await Self.hubWithConversation()
        // Kari never joined `kaffe`: a public channel's messages are hers to find.
        let kari = try await hub.connect("kari")
        let found = try await kari.ok("search", [("query", "årsmøt")])
        #expect(Self.bodies(found) == ["Årsmøtet er flyttet til torsdag"])
        #expect(found["has_more"] == .bool(false))
        let hit = try #require(found["messages"]?.arrayValue?.first)
        #expect(hit["channel"] == "kaffe")
        #expect(hit["seq"] == .int(1))
        #expect(hit["id"]?.stringValue?.hasPrefix("m_") == true)
        #expect(hit.at("from", "id") == "ola")
        #expect(hit.at("from", "name") == "Ola Hansen")
        #expect(hit["ts"]?.int64Value != nil)
        #expect(hit["excerpt"] == "Årsmøtet er flyttet til torsdag")
        #expect(hit["excerpt_marks"] == [[0, 8]])

        #expect(Self.bodies(try await kari.ok("search", [("query", "ÅRSMØTET")])) == ["Årsmøtet er flyttet til torsdag"])
        #expect(
            Set(Self.bodies(try await kari.ok("search", [("query", "kaffe")])))
                == ["Kaffemaskinen er ødelagt igjen", "Vi trenger KAFFE og kake"])
        #expect(Self.bodies(try await kari.ok("search", [("query", "far")])) == ["far kommer i morgen"], "far is not får")
        #expect(Self.bodies(try await kari.ok("search", [("query", "kaffe kake")])) == ["Vi trenger KAFFE og kake"])
        #expect(Self.bodies(try await kari.ok("search", [("query", "te")])).isEmpty)
        await ola.close()
        await hub.stop()
    }

    @Test func aNonMemberNeverFindsAPrivateChannelAndARemovedMemberStopsFindingIt() async throws {
        let hub = try await TestHub.start()
        _ = try await hub.app.hub.createChannel(name: "board", kind: .private, title: "Board")
        let admin = try await TestHub.token("boss", roles: ["admin"])
        #expect(try await RawHTTP.json(port: hub.port, "PUT", "/api/v1/channels/board/members/kari", token: admin).status == 201)
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "board")])
        try await kari.ok("publish", [("channel", "board"), ("body", "Budsjettet for årsmøtet er hemmelig")])
        #expect(Self.bodies(try await kari.ok("search", [("query", "budsjett")])).count == 1)

        // Per's token even lists the board, but he is not a member: nothing, and one answer
        // for the channel, as for a missing one.
        let per = try await hub.connect("per", channels: ["board"])
        #expect(Self.bodies(try await per.ok("search", [("query", "budsjett")])).isEmpty)
        let asked = try await per.request("search", [("query", "budsjett"), ("channel", "board")])
        #expect(asked.at("error", "code") == "forbidden")
        #expect(asked.at("error", "message") == .string(ChannelAccess.notReadable("board").message))
        let missing = try await per.request("search", [("query", "budsjett"), ("channel", "nowhere")])
        #expect(missing.at("error", "message") == .string(ChannelAccess.notReadable("nowhere").message))
        let overHTTP = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/search?query=budsjett", token: try await TestHub.token("per"))
        #expect(overHTTP.status == 200)
        #expect(Self.bodies(overHTTP.json).isEmpty)

        // An admin finds it without being in it.
        let boss = try await hub.connect("boss", roles: ["admin"])
        #expect(Self.bodies(try await boss.ok("search", [("query", "budsjett")])).count == 1)

        // Keys: one with `read` reaches public and announce channels only; one made for the
        // board finds it; one without `read` is refused at the door.
        let (reader, readerRecord) = APIKeys.make(name: "reader", scopes: ["read"], channels: [], now: WallClock.nowMillis())
        let (boardReader, boardRecord) = APIKeys.make(
            name: "board-reader", scopes: ["read"], channels: ["board"], now: WallClock.nowMillis())
        let (poster, posterRecord) = APIKeys.make(
            name: "poster", scopes: ["publish"], channels: ["board"], now: WallClock.nowMillis())
        _ = try hub.app.hub.store.write([.createAPIKey(readerRecord), .createAPIKey(boardRecord), .createAPIKey(posterRecord)])
        let byReader = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/search?query=budsjett", token: reader)
        #expect(byReader.status == 200)
        #expect(Self.bodies(byReader.json).isEmpty)
        let byBoardReader = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/search?query=budsjett", token: boardReader)
        #expect(Self.bodies(byBoardReader.json) == ["Budsjettet for årsmøtet er hemmelig"])
        #expect(byBoardReader.json["messages"]?.arrayValue?.first?["excerpt_marks"] == [[0, 10]])
        #expect(try await RawHTTP.json(port: hub.port, "GET", "/api/v1/search?query=budsjett", token: poster).status == 403)

        // The admin removes Kari: from then on she finds nothing there.
        let removed = try await RawHTTP.json(port: hub.port, "DELETE", "/api/v1/channels/board/members/kari", token: admin)
        #expect(removed.status == 204)
        _ = try await kari.next(type: "removed")
        #expect(Self.bodies(try await kari.ok("search", [("query", "budsjett")])).isEmpty)
        #expect(
            try await kari.request("search", [("query", "budsjett"), ("channel", "board")]).at("error", "code") == "forbidden")
        await hub.stop()
    }

    @Test func filtersByChannelAuthorAndTime() async throws {
        let (hub, ola) = try await Self.hubWithConversation()
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "lunsj")])
        let lunch = try await kari.ok("publish", [("channel", "lunsj"), ("body", "Kake i kantina")])
        let all = try await kari.ok("search", [("query", "kake")])
        #expect(Set(Self.bodies(all)) == ["Vi trenger KAFFE og kake", "Får vi kake?", "Kake i kantina"])
        #expect(Self.bodies(try await kari.ok("search", [("query", "kake"), ("channel", "lunsj")])) == ["Kake i kantina"])
        #expect(Self.bodies(try await kari.ok("search", [("query", "kake"), ("from", "kari")])) == ["Kake i kantina"])
        let lunchTS = try #require(lunch.at("message", "ts")?.int64Value)
        let before = try await kari.ok("search", [("query", "kake"), ("before", .int(lunchTS))])
        #expect(!Self.bodies(before).contains("Kake i kantina"), "before is exclusive: ts < before")
        #expect(Self.bodies(try await kari.ok("search", [("query", "kake"), ("before", 1)])).isEmpty)
        let overHTTP = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/search?query=KAKE&channel=kaffe&from=ola&limit=1",
            token: try await TestHub.token("kari"))
        #expect(overHTTP.status == 200)
        #expect(overHTTP.json["messages"]?.arrayValue?.count == 1)
        #expect(overHTTP.json["has_more"] == .bool(true))
        await ola.close()
        await hub.stop()
    }

    @Test func theLimitIsBoundedAndHasMoreSaysWhenMoreMatched() async throws {
        let hub = try await TestHub.start {
            $0.hub.publishBurst = 1_000; $0.hub.publishRate = 1_000
        }
        let ola = try await hub.connect("ola")
        try await ola.ok("join", [("channel", "dugnad")])
        for number in 1...55 {
            try await ola.ok("publish", [("channel", "dugnad"), ("body", .string("Dugnad nummer \(number)"))])
        }
        let most = try await ola.ok("search", [("query", "dugnad"), ("limit", 500)])
        #expect(most["messages"]?.arrayValue?.count == 50, "a larger limit is clamped to 50")
        #expect(most["has_more"] == .bool(true))
        #expect(try await ola.ok("search", [("query", "dugnad")])["messages"]?.arrayValue?.count == 20, "20 by default")
        let five = try await ola.ok("search", [("query", "dugnad"), ("limit", 5)])
        #expect(five["messages"]?.arrayValue?.count == 5)
        #expect(try await ola.request("search", [("query", "dugnad"), ("limit", 0)]).at("error", "code") == "bad_request")
        await hub.stop()
    }

    @Test func badQueriesAreAnsweredClearlyAndNothingBreaks() async throws {
        let (hub, ola) = try await Self.hubWithConversation(lifted: true)
        let noWords: [String] = ["\"", "*", "-", "---", "\"*\"", "(", "!!! ???", "   "]
        for query in noWords {
            let reply = try await ola.request("search", [("query", .string(query))])
            #expect(reply.at("error", "code") == "bad_request", "\(query)")
            #expect(reply.at("error", "message")?.stringValue?.contains("no words") == true, "\(query): \(reply)")
        }
        for (fields, field) in [
            ([("query", JSONValue.string(""))], "'query'"), ([], "'query'"), ([("query", .int(5))], "'query'"),
            ([("query", .string(String(repeating: "a", count: 201)))], "'query'"),
            ([("query", .string("a b c d e f g h i"))], "at most 8 words"),
            ([("query", .string("kaffe")), ("channel", .string("Not A Name"))], "'channel'"),
        ] as [([(String, JSONValue)], String)] {
            let reply = try await ola.request("search", fields)
            #expect(reply.at("error", "code") == "bad_request", "\(fields)")
            #expect(reply.at("error", "message")?.stringValue?.contains(field) == true, "\(fields): \(reply)")
        }
        // The engines' operators are words or separators here: each is a plain search.
        for query in ["NEAR(kaffe", "kaffe OR te", "-kaffe", "\"kaffe\"*", "kaffe AND", "kaffe:*", "kaffe & !te", "^kaffe"] {
            let reply = try await ola.request("search", [("query", .string(query))])
            #expect(reply["ok"] == .bool(true), "\(query): \(reply)")
        }
        #expect(Set(Self.bodies(try await ola.ok("search", [("query", "\"kaffe\"*")]))).count == 2)
        #expect(Self.bodies(try await ola.ok("search", [("query", "kaffe OR te")])).isEmpty, "every word, 'or' too")
        // Without a ref, an error event; the connection goes on either way.
        try await ola.send("search", [("query", "***")])
        #expect(try await ola.next(type: "error")["code"] == "bad_request")
        try await ola.ok("ping")

        let token = try await TestHub.token("ola")
        for path in [
            "/api/v1/search", "/api/v1/search?query=", "/api/v1/search?query=%22", "/api/v1/search?query=%00kaffe",
            "/api/v1/search?query=kaffe&limit=abc", "/api/v1/search?query=kaffe&before=-1",
            "/api/v1/search?query=kaffe&from=%00",
        ] {
            let answer = try await RawHTTP.json(port: hub.port, "GET", path, token: token)
            #expect(answer.status == 400, "\(path)")
            #expect(answer.json.at("error", "code") == "bad_request", "\(path)")
        }
        #expect(try await RawHTTP.json(port: hub.port, "GET", "/api/v1/search?query=kaffe").status == 401)
        await ola.close()
        await hub.stop()
    }

    @Test func searchesHaveABudgetOfTheirOwnSharedWithHTTP() async throws {
        // A burst of 3 that refills once in 1,000 s: what passes does not depend on timing.
        let hub = try await TestHub.start { configuration in
            (configuration.hub.searchRate, configuration.hub.searchBurst) = (0.001, 3)
        }
        let ola = try await hub.connect("ola")
        for ref in 1...5 {
            try await ola.sendJSON(.object(JSONObject([("type", "search"), ("ref", .int(Int64(ref))), ("query", "kaffe")])))
        }
        var codes: [String] = []
        for ref in 1...5 {
            let reply = try await ola.next { $0["type"] == "reply" && $0["ref"] == .int(Int64(ref)) }
            codes.append(reply.at("error", "code")?.stringValue ?? "ok")
            if reply.at("error", "code") == "rate_limited" {
                #expect(reply.at("error", "retry_after_ms")?.int64Value != nil)
            }
        }
        #expect(codes == ["ok", "ok", "ok", "rate_limited", "rate_limited"])
        let overHTTP = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/search?query=kaffe", token: try await TestHub.token("ola"))
        #expect(overHTTP.status == 429, "the same budget over HTTP")
        #expect(overHTTP.headers["retry-after"] != nil)
        // Another person's budget is untouched.
        let kari = try await hub.connect("kari")
        try await kari.ok("search", [("query", "kaffe")])
        try await ola.ok("ping")
        await hub.stop()
    }
}
