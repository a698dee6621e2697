import DugnadTestSupport
import DugnadProtocol
import Foundation
import Testing

/// Every kind of bad input gets its error, and the connection (or the server) survives.
@Suite struct BadInputTests {
    @Test func malformedJSONUnknownTypesAndBadFieldsGetClearErrorsAndTheConnectionSurvives() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        try await kari.socket.sendText("{not json")
        let invalid = try await kari.next(type: "error")
        #expect(invalid["code"] == "bad_request")
        #expect(invalid["message"]?.stringValue?.contains("invalid JSON") == true)

        let unknown = try await kari.request("teleport")
        #expect(unknown["ok"] == false)
        #expect(unknown.at("error", "code") == "bad_request")
        #expect(unknown.at("error", "message")?.stringValue?.contains("unknown type") == true)

        let cases: [(String, [(String, JSONValue)], String)] = [
            ("join", [], "bad_request"),
            ("join", [("channel", 5)], "bad_request"),
            ("join", [("channel", "Not Valid!")], "bad_request"),
            ("publish", [("channel", "general")], "bad_request"),
            ("publish", [("channel", "general"), ("body", .string(String(repeating: "x", count: 16_385)))], "too_large"),
            (
                "publish", [("channel", "general"), ("body", "x"), ("client_id", .string(String(repeating: "c", count: 65)))],
                "bad_request"
            ),
            ("publish", [("channel", "general"), ("body", "x"), ("meta", "not an object")], "bad_request"),
            ("history", [("channel", "general"), ("before", 5), ("after", 1)], "bad_request"),
            ("history", [("channel", "general"), ("limit", "ten")], "bad_request"),
            ("react", [("message_id", "m_1"), ("emoji", .string(String(repeating: "😀", count: 9)))], "bad_request"),
            ("mark_read", [("channel", "general"), ("seq", -1)], "bad_request"),
        ]
        for (type, fields, code) in cases {
            let reply = try await kari.request(type, fields)
            #expect(reply.at("error", "code") == .string(code), "\(type) \(fields) → \(reply.jsonString())")
            #expect(reply.at("error", "message")?.stringValue?.isEmpty == false)
        }
        // A body of exactly 16 KiB is accepted.
        try await kari.ok("join", [("channel", "general")])
        try await kari.ok("publish", [("channel", "general"), ("body", .string(String(repeating: "y", count: 16_384)))])
        // Still alive after all of it.
        try await kari.ok("ping")
        await hub.stop()
    }

    @Test func aMessageOfExactlyMaxFrameBytesIsAcceptedAndOneMoreClosesWith1009() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        try await kari.socket.sendText(padded(ref: 1, toBytes: 65_536))
        let reply = try await kari.next { $0["type"] == "reply" && $0["ref"] == .int(1) }
        #expect(reply["ok"] == true)

        try await kari.socket.sendText(padded(ref: 2, toBytes: 65_537))
        let (code, _) = try await kari.closed()
        #expect(code == 1009)
        await hub.stop()
    }

    @Test func fragmentsAreReassembledAndTheirTotalSizeIsLimited() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        let message = Array(#"{"type":"ping","ref":"frag"}"#.utf8)
        try await kari.socket.send(opcode: .text, payload: Array(message[..<10]), fin: false)
        try await kari.socket.send(opcode: .continuation, payload: Array(message[10...]), fin: true)
        let reply = try await kari.next { $0["ref"] == "frag" }
        #expect(reply["ok"] == true)

        let big = Array(padded(ref: 3, toBytes: 65_537).utf8)
        try await kari.socket.send(opcode: .text, payload: Array(big[..<40_000]), fin: false)
        try await kari.socket.send(opcode: .continuation, payload: Array(big[40_000...]), fin: true)
        let (code, _) = try await kari.closed()
        #expect(code == 1009)
        await hub.stop()
    }

    @Test func aBinaryFrameIsAnsweredWith1003BeforeAndAfterAuthentication() async throws {
        let hub = try await TestHub.start()
        let anonymous = try await hub.rawConnect()
        try await anonymous.socket.send(opcode: .binary, payload: [1, 2, 3])
        #expect(try await anonymous.closed().code == 1003)

        let kari = try await hub.connect("kari")
        try await kari.socket.send(opcode: .binary, payload: [1, 2, 3])
        #expect(try await kari.closed().code == 1003)
        await hub.stop()
    }

    @Test func aClientThatFloodsIsRateLimitedThenClosedWith4029() async throws {
        // A rate so low that nothing refills during the test, however slow the machine.
        let hub = try await TestHub.start {
            $0.hub.publishRate = 0.001; $0.hub.publishBurst = 5; $0.hub.rateLimitStrikes = 10
        }
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "general")])
        var limited: JSONValue?
        for _ in 0..<8 {
            let reply = try await kari.request("publish", [("channel", "general"), ("body", "flood")])
            if reply["ok"] == false {
                limited = reply
                break
            }
        }
        #expect(limited?.at("error", "code") == "rate_limited")
        #expect((limited?.at("error", "retry_after_ms")?.int64Value ?? 0) > 0)
        for _ in 0..<30 {
            try? await kari.send("publish", [("channel", "general"), ("body", "flood")])
        }
        let (code, reason) = try await kari.closed()
        #expect(code == 4029)
        #expect(reason.contains("rate limit"))
        // Nothing beyond the burst was stored.
        let ola = try await hub.connect("ola")
        try await ola.ok("join", [("channel", "general")])
        let page = try await ola.ok("history", [("channel", "general"), ("limit", 200)])
        #expect(page["messages"]?.arrayValue?.count == 5)
        await hub.stop()
    }

    @Test func aSlowConsumerIsClosedWith4008WhileOthersKeepReceiving() async throws {
        // Published in rounds of a sixteenth of the outbound limit, and the reader that keeps
        // up reads each round before the next one goes out: its queue at the hub never holds
        // more than a round, however slow the machine. The stalled reader's queue grows by a
        // round each time until it passes the limit, and then it is closed. (Flooding without
        // pacing made the keeping-up reader's backlog a race between the hub's fan-out and
        // this process's reading threads, which a loaded machine lost: it got 4008 too.)
        let limit = 1 << 20
        let messageBytes = 4_096
        let perRound = limit / 16 / messageBytes
        let body = JSONValue.string(String(repeating: "z", count: messageBytes - 96))
        let hub = try await TestHub.start {
            $0.outboundLimitBytes = limit
            // Small batches keep each fan-out burst well under the limit.
            $0.hub.writer.maxBatch = 64
            // The stalled reader drains its queue before it reads the 4008: it gets all the time
            // it needs (the hub cuts the connection after this).
            $0.closeTimeoutSeconds = 120
            $0.hub.publishRate = 100_000
            $0.hub.publishBurst = 100_000
            $0.hub.commandRate = 100_000
            $0.hub.commandBurst = 100_000
        }
        let slow = try await hub.connect("slow")
        let fast = try await hub.connect("fast")
        let publisher = try await hub.connect("pub")
        for client in [slow, fast, publisher] { try await client.ok("join", [("channel", "firehose")]) }
        // The publisher stays a member but stops receiving the channel: it only sends.
        try await publisher.ok("leave", [("channel", "firehose")])
        await slow.socket.pauseReading()

        var seqs: [Int64] = []
        var published = 0
        func publishARound() async throws {
            for _ in 0..<perRound {
                try await publisher.send("publish", [("channel", "firehose"), ("body", body)])
            }
            published += perRound
            for _ in 0..<perRound {
                seqs.append(try await fast.next(type: "message")["seq"]?.int64Value ?? -1)
            }
        }
        // Until the hub has closed the stalled reader (its session ends with the close frame).
        // The bound is far beyond the limit plus every kernel buffer on the way: passing it
        // means a queue grew past its limit.
        let most = 64 * limit / messageBytes
        while hub.app.hub.isOnline("slow") {
            guard published < most else {
                Issue.record("\(published) messages of \(messageBytes) bytes and the stalled reader is still open")
                break
            }
            try await publishARound()
        }
        // The hub goes on serving the reader that keeps up, which got every message, in order.
        try await publishARound()
        #expect(seqs == Array(1...Int64(published)))
        // Reading again, the stalled client drains what was queued for it and then finds the 4008.
        await slow.socket.resumeReading()
        let (code, _) = try await slow.closed(timeout: .seconds(60))
        #expect(code == 4008)
        try await fast.ok("ping")
        await hub.stop()
    }

    @Test func anUnknownSubprotocolIsRefusedWithHTTP400AndOursIsEchoed() async throws {
        let hub = try await TestHub.start()
        await #expect(throws: WebSocketUpgradeFailed.self) {
            _ = try await hub.rawConnect(subprotocols: ["mqtt"])
        }
        do {
            _ = try await hub.rawConnect(subprotocols: ["mqtt"])
        } catch let error as WebSocketUpgradeFailed {
            #expect(error.status == 400)
        }
        let ours = try await hub.rawConnect(subprotocols: ["mqtt", "dugnad.v1"])
        #expect(ours.socket.negotiatedSubprotocol == "dugnad.v1")
        let none = try await hub.rawConnect()
        #expect(none.socket.negotiatedSubprotocol == nil)
        await hub.stop()
    }

    @Test func aClientThatDoesNotAnswerPingsIsClosedWith1001() async throws {
        // Twenty seconds between pings: the polite client's pong (or any frame) must reach the
        // hub within two intervals (forty seconds); with ten, the PostgreSQL suite's start once
        // took longer than twenty (with five, longer than ten; with two, longer than four).
        // The exact counting of pings and pongs is `WebSocketHandlerTests`', on virtual time;
        // here it is the real socket.
        let hub = try await TestHub.start { $0.pingInterval = 20 }
        let silent = try await hub.connect("silent", autoPong: false)
        let polite = try await hub.connect("polite")
        // Three intervals, about 60 seconds.
        let (code, reason) = try await silent.closed(timeout: .seconds(240))
        #expect(code == 1001)
        #expect(reason == "no answer to two pings")
        try await polite.ok("ping")
        await hub.stop()
    }

    /// `{"type":"ping","ref":N,"pad":"xxx…"}` of exactly `bytes` bytes.
    private func padded(ref: Int, toBytes bytes: Int) -> String {
        let prefix = #"{"type":"ping","ref":\#(ref),"pad":""#
        let suffix = #""}"#
        return prefix + String(repeating: "x", count: bytes - prefix.utf8.count - suffix.utf8.count) + suffix
    }
}
