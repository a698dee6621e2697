import DugnadCore
import DugnadProtocol
import DugnadTestSupport
import DugnadTokens
import Foundation
import Testing

/// Hardening, round two: what an attacker found beyond governance, each a regression test
/// (the governance items have theirs in GovernanceTests and GovernanceLimitsTests).
@Suite struct HardeningRoundTwoTests {
    // MARK: Item 1: memory without signing in

    @Test func anUnauthenticatedRequestIsRefusedBeforeItsBodyIsRead() async throws {
        let hub = try await TestHub.start()
        // A head announcing a 1 MiB body, and none of the body: the answer comes anyway.
        let head = """
            POST /api/v1/announcements HTTP/1.1\r
            Host: 127.0.0.1\r
            Content-Type: application/json\r
            Content-Length: 1048576\r
            \r

            """
        let response = try await RawHTTP.send(port: hub.port, head)
        #expect(response.status == 401)
        #expect(response.headers["connection"] == "close")
        // A route that does not exist: refused from the head too.
        let nowhere = try await RawHTTP.send(
            port: hub.port, "POST /api/v1/nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n")
        #expect(nowhere.status == 404)
        #expect(hub.app.bodyBytesHeld == 0)
        await hub.stop()
    }

    @Test func aBodyThatArrivesTooSlowlyIsCutOffAndItsBytesGivenBack() async throws {
        let hub = try await TestHub.start { $0.httpBodyTimeoutSeconds = 1 }
        let token = try await TestHub.token("ola")
        let head = """
            POST /api/v1/channels/general/messages HTTP/1.1\r
            Host: 127.0.0.1\r
            Authorization: Bearer \(token)\r
            Content-Type: application/json\r
            Content-Length: 100\r
            \r
            {"body":
            """
        let response = try await RawHTTP.send(port: hub.port, head)
        #expect(response.status == 408)
        #expect(hub.app.bodyBytesHeld == 0)
        await hub.stop()
    }

    // MARK: Item 3: U+0000 split identities

    @Test func anAPIBodyAtTheLimitIsTakenAndOneByteMoreIs413AndClosed() async throws {
        let hub = try await TestHub.start { $0.maxHTTPBodyBytes = 64 }
        let ola = try await hub.connect("ola")
        try await ola.ok("join", [("channel", "general")])
        let token = try await TestHub.token("ola")
        func post(_ body: String) async throws -> RawHTTP.Response {
            try await RawHTTP.send(
                port: hub.port,
                "POST /api/v1/channels/general/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        }
        let prefix = #"{"body":""#
        let atLimit = prefix + String(repeating: "a", count: 64 - prefix.utf8.count - 2) + #""}"#
        #expect(atLimit.utf8.count == 64)
        #expect(try await post(atLimit).status == 201)
        let overLimit = prefix + String(repeating: "a", count: 65 - prefix.utf8.count - 2) + #""}"#
        let refused = try await post(overLimit)
        #expect(refused.status == 413)
        #expect(refused.headers["connection"] == "close")
        #expect(try JSONParser.parse(refused.body).at("error", "code") == "too_large")
        let history = try await ola.ok("history", [("channel", "general")])
        #expect(history["messages"]?.arrayValue?.count == 1, "the refused body stored nothing")
        await hub.stop()
    }

    @Test func nulIsRefusedInTokensAndBodies() async throws {
        let hub = try await TestHub.start()
        let alice = try await hub.connect("alice", channels: ["secret"])
        try await alice.ok("join", [("channel", "general")])
        let split = try await TestHub.token("alice\u{0}x")
        let refused = try await hub.rawConnect(path: "/ws?token=\(split)")
        let closed = try await refused.closed(timeout: .seconds(30))
        #expect(closed.code == 4001)
        #expect(closed.reason == "invalid_token")
        let body = try await alice.request("publish", [("channel", "general"), ("body", "visible\u{0}hidden")])
        #expect(body.at("error", "code") == "bad_request")
        let clientID = try await alice.request(
            "publish", [("channel", "general"), ("body", "hi"), ("client_id", "cid\u{0}x")])
        #expect(clientID.at("error", "code") == "bad_request")
        #expect(try await alice.ok("history", [("channel", "general")])["messages"]?.arrayValue?.isEmpty == true)
        await hub.stop()
    }

    // MARK: Item 4: a person could become a bot

    @Test func aTokenCannotNameABot() async throws {
        let hub = try await TestHub.start()
        let (_, record) = APIKeys.make(name: "it-bot", scopes: ["publish", "read"], channels: [], now: WallClock.nowMillis())
        _ = try hub.app.hub.store.write([.createAPIKey(record)])
        let impostor = try await hub.rawConnect(path: "/ws?token=\(try await TestHub.token("bot:" + record.id))")
        let closed = try await impostor.closed(timeout: .seconds(30))
        #expect(closed.code == 4001)
        #expect(closed.reason == "invalid_token")
        await hub.stop()
    }

    // MARK: Item 8: the web root served the client's notes and tests

    @Test func theWebRootServesTheClientsAssetsOnly() async throws {
        let hub = try await TestHub.start()
        #expect(try await RawHTTP.get(port: hub.port, "/").status == 200)
        #expect(try await RawHTTP.get(port: hub.port, "/js/app.js").status == 200)
        for path in ["/README.md", "/tests/conftest.py", "/tests/requirements.txt", "/public/index.html"] {
            #expect(try await RawHTTP.get(port: hub.port, path).status == 404, "\(path)")
        }
        await hub.stop()
    }

    // MARK: Item 9: a quick add-then-remove of a reaction lost the removal

    @Test func aReactionAddedAndRemovedBackToBackEndsRemovedEveryTime() async throws {
        let hub = try await TestHub.start {
            $0.hub.commandRate = 10_000
            $0.hub.commandBurst = 10_000
        }
        let kari = try await hub.connect("kari")
        let ola = try await hub.connect("ola")
        try await kari.ok("join", [("channel", "general")])
        try await ola.ok("join", [("channel", "general")])
        let message = try await kari.ok("publish", [("channel", "general"), ("body", "react to me")])
        let id = try #require(message.at("message", "id"))
        let seq = try #require(message.at("message", "seq"))
        let rounds = 40
        for _ in 0..<rounds {
            // Without refs and back to back, as the black-box suite sent them.
            try await kari.send("ping")
            try await kari.send("mark_read", [("channel", "general"), ("seq", seq)])
            try await kari.send("react", [("message_id", id), ("emoji", "🎈")])
            try await kari.send("react", [("message_id", id), ("emoji", "🎈"), ("remove", true)])
            try await kari.send("leave", [("channel", "general")])
            try await kari.ok("join", [("channel", "general")])
        }
        var ops: [String] = []
        while ops.count < 2 * rounds {
            let event = try await ola.next(type: "reaction", timeout: .seconds(60))
            ops.append(event["op"]?.stringValue ?? "?")
        }
        #expect(ops == Array(repeating: ["add", "remove"], count: rounds).flatMap { $0 })
        // Nothing is left stored: removing once more changes nothing, so no event follows
        // before the marker message.
        try await kari.ok("react", [("message_id", id), ("emoji", "🎈"), ("remove", true)])
        try await kari.ok("publish", [("channel", "general"), ("body", "marker")])
        let next = try await ola.next(timeout: .seconds(30)) { $0["type"] == "reaction" || $0["type"] == "message" }
        #expect(next["type"] == "message", "a reaction was still stored: \(next.jsonString())")
        await hub.stop()
    }
}
