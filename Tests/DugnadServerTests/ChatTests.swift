import DugnadTestSupport
import DugnadProtocol
import Foundation
import Testing

/// Live tests: a real hub on a loopback port, real WebSocket clients, a real SQLite file.
@Suite struct ChatTests {
    @Test func twoUsersChatBothWaysInAChannel() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari", name: "Kari")
        let ola = try await hub.connect("ola", name: "Ola")
        try await kari.ok("join", [("channel", "general")])
        try await ola.ok("join", [("channel", "general")])

        let sent = try await kari.ok("publish", [("channel", "general"), ("body", "Lunch at 12?")])
        #expect(sent.at("message", "seq") == .int(1))
        let atOla = try await ola.next(type: "message")
        #expect(atOla["body"] == "Lunch at 12?")
        #expect(atOla.at("from", "id") == "kari")
        #expect(atOla.at("from", "name") == "Kari")
        #expect(atOla["channel"] == "general")
        #expect(atOla["seq"] == .int(1))
        #expect(atOla["id"] == sent.at("message", "id"))
        #expect(atOla["ts"]?.int64Value ?? 0 > 1_700_000_000_000)

        try await ola.ok("publish", [("channel", "general"), ("body", "Yes!"), ("reply_to", atOla["id"]!)])
        let atKari = try await kari.next { $0["type"] == "message" && $0["seq"] == .int(2) }
        #expect(atKari["body"] == "Yes!")
        #expect(atKari["reply_to"] == atOla["id"])
        await kari.close()
        await ola.close()
        await hub.stop()
    }

    @Test func aLateJoinerGetsHistoryInAscendingOrder() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "team")])
        for index in 1...5 {
            try await kari.ok("publish", [("channel", "team"), ("body", .string("m\(index)"))])
        }
        let late = try await hub.connect("per")
        let reply = try await late.ok("join", [("channel", "team"), ("history", 3)])
        let messages = reply["messages"]?.arrayValue ?? []
        #expect(messages.seqs == [3, 4, 5])
        #expect(reply["last_seq"] == .int(5))
        #expect(reply["read_seq"] == .int(5), "a new member starts at the channel's last_seq")
        #expect(reply["recovered"] == true, "nothing to recover, nothing lost")
        #expect(reply["truncated"] == nil, "truncated comes only with since")

        let page = try await late.ok("history", [("channel", "team"), ("before", 3), ("limit", 10)])
        #expect(page["messages"]?.arrayValue?.seqs == [1, 2])
        #expect(page["has_more"] == false)
        let latest = try await late.ok("history", [("channel", "team"), ("limit", 2)])
        #expect(latest["messages"]?.arrayValue?.seqs == [4, 5])
        #expect(latest["has_more"] == true)
        let after = try await late.ok("history", [("channel", "team"), ("after", 1), ("limit", 2)])
        #expect(after["messages"]?.arrayValue?.seqs == [2, 3])
        #expect(after["has_more"] == true)
        await hub.stop()
    }

    @Test func aClientThatRejoinsWithSinceGetsExactlyTheMissedMessagesInOrder() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        var ola = try await hub.connect("ola")
        try await kari.ok("join", [("channel", "general")])
        let joined = try await ola.ok("join", [("channel", "general")])
        let epoch = joined.at("channel", "epoch")!
        try await kari.ok("publish", [("channel", "general"), ("body", "before")])
        let seen = try await ola.next(type: "message")
        await ola.close()

        for index in 1...7 {
            try await kari.ok("publish", [("channel", "general"), ("body", .string("missed \(index)"))])
        }
        ola = try await hub.connect("ola")
        let welcomeChannels = ola.welcome["channels"]?.arrayValue ?? []
        #expect(welcomeChannels.first?["name"] == "general", "membership survives a closed connection")
        #expect(welcomeChannels.first?["last_seq"] == .int(8))
        let rejoined = try await ola.ok("join", [("channel", "general"), ("since", seen["seq"]!), ("epoch", epoch)])
        let missed = rejoined["messages"]?.arrayValue ?? []
        #expect(missed.seqs == Array(2...8))
        #expect(missed.map { $0["body"]?.stringValue ?? "" } == (1...7).map { "missed \($0)" })
        #expect(rejoined["recovered"] == true)
        #expect(rejoined["truncated"] == false)

        let reset = try await ola.ok("join", [("channel", "general"), ("since", 3), ("epoch", "e_other")])
        #expect(reset["recovered"] == false, "another epoch means the history was reset: reload")
        #expect(reset["messages"]?.arrayValue?.seqs == Array(1...8), "the latest of the current history")
        #expect(reset["truncated"] == false)
        await hub.stop()
    }

    @Test func aRejoinAfterMoreThanAThousandMissedIsTruncated() async throws {
        let hub = try await TestHub.start {
            $0.hub.publishRate = 100_000; $0.hub.publishBurst = 100_000; $0.hub.commandRate = 100_000;
            $0.hub.commandBurst = 100_000
        }
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "busy")])
        for index in 1...1_005 {
            try await kari.send("publish", [("channel", "busy"), ("body", .string("n\(index)"))])
        }
        try await kari.ok("ping")
        // 1,005 commits, on PostgreSQL a few round trips each: generous on a loaded machine.
        _ = try await kari.next(timeout: .seconds(120)) { $0["type"] == "message" && $0["seq"] == .int(1_005) }
        let ola = try await hub.connect("ola")
        let reply = try await ola.ok("join", [("channel", "busy"), ("since", 2)])
        let messages = reply["messages"]?.arrayValue ?? []
        #expect(reply["truncated"] == true)
        #expect(messages.count == 1_000)
        #expect(messages.first?["seq"] == .int(3))
        #expect(messages.last?["seq"] == .int(1_002))
        await hub.stop()
    }

    @Test func aRestartKeepsEveryAcknowledgedMessageAndSeqContinuesGapless() async throws {
        let directory = TestHub.temporaryDirectory()
        var hub = try await TestHub.start(dataDirectory: directory)
        var kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "durable")])
        var acknowledged: [Int64] = []
        for index in 1...25 {
            let reply = try await kari.ok("publish", [("channel", "durable"), ("body", .string("n\(index)"))])
            acknowledged.append(reply.at("message", "seq")?.int64Value ?? -1)
        }
        await hub.stop(keepData: true)

        hub = try await TestHub.start(dataDirectory: directory)
        kari = try await hub.connect("kari")
        let page = try await kari.ok("history", [("channel", "durable"), ("limit", 200)])
        #expect(page["messages"]?.arrayValue?.seqs == acknowledged)
        let next = try await kari.ok("publish", [("channel", "durable"), ("body", "after restart")])
        #expect(next.at("message", "seq") == .int(26))
        await hub.stop()
    }

    @Test func aRetriedPublishWithTheSameClientIDStoresOnce() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        let ola = try await hub.connect("ola")
        try await kari.ok("join", [("channel", "general")])
        try await ola.ok("join", [("channel", "general")])
        let first = try await kari.ok("publish", [("channel", "general"), ("body", "once"), ("client_id", "c-1")])
        let second = try await kari.ok("publish", [("channel", "general"), ("body", "once"), ("client_id", "c-1")])
        #expect(first["message"] == second["message"])
        let delivered = try await ola.next(type: "message")
        #expect(delivered["id"] == first.at("message", "id"))
        #expect(await ola.collect(type: "message", for: .milliseconds(500)).isEmpty, "a duplicate is not fanned out again")
        let page = try await ola.ok("history", [("channel", "general")])
        #expect(page["messages"]?.arrayValue?.count == 1)
        await hub.stop()
    }

    @Test func presenceShowsAUserOnceWithTwoConnectionsAndDropsThemWhenBothGo() async throws {
        let hub = try await TestHub.start()
        let watcher = try await hub.connect("watcher")
        try await watcher.ok("join", [("channel", "lobby")])
        let tabOne = try await hub.connect("kari", name: "Kari")
        let tabTwo = try await hub.connect("kari", name: "Kari")
        try await tabOne.ok("join", [("channel", "lobby")])
        let second = try await tabTwo.ok("join", [("channel", "lobby")])
        #expect(second["presence_count"] == .int(2))
        #expect(second["presence"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["kari", "watcher"])

        let joins = try await watcher.next {
            $0["type"] == "presence_diff" && $0["joins"]?.arrayValue?.contains { $0["id"] == "kari" } == true
        }
        // Diffs are drained every 100 ms, so the watcher's own join may share this one.
        let kariJoins = joins["joins"]?.arrayValue?.filter { $0["id"] == "kari" }
        #expect(kariJoins == [.object(JSONObject([("id", "kari"), ("name", "Kari")]))], "Kari once, for two tabs")
        #expect(joins["joins"]?.arrayValue?.allSatisfy { $0["id"] == "kari" || $0["id"] == "watcher" } == true)

        await tabOne.close()
        // Once the hub has let the first tab go (watcher and the second tab remain)...
        try await hub.waitForConnections(2)
        let afterOne = try await watcher.ok("presence", [("channel", "lobby")])
        #expect(afterOne["presence_count"] == .int(2), "one tab left: still present")
        await tabTwo.close()
        let leave = try await watcher.next { $0["type"] == "presence_diff" && !($0["leaves"]?.arrayValue?.isEmpty ?? true) }
        #expect(leave["leaves"]?.arrayValue?.first?["id"] == "kari")
        let afterBoth = try await watcher.ok("presence", [("channel", "lobby")])
        #expect(afterBoth["presence"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["watcher"])

        let members = try await watcher.ok("members", [("channel", "lobby")])
        let kari = members["members"]?.arrayValue?.first { $0["id"] == "kari" }
        #expect(kari?["online"] == false)
        #expect(kari?["last_seen"]?.int64Value ?? 0 > 0)
        await hub.stop()
    }

    @Test func typingGoesToOthersButNeverToTheSendersOwnConnections() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        let kariPhone = try await hub.connect("kari")
        let ola = try await hub.connect("ola")
        for client in [kari, kariPhone, ola] { try await client.ok("join", [("channel", "general")]) }
        try await kari.send("typing", [("channel", "general")])
        let typing = try await ola.next(type: "typing")
        #expect(typing.at("user", "id") == "kari")
        #expect(await kariPhone.collect(type: "typing", for: .milliseconds(300)).isEmpty)
        #expect(await kari.collect(type: "typing", for: .milliseconds(100)).isEmpty)
        await hub.stop()
    }

    @Test func reactionsAndReadPositions() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        let ola = try await hub.connect("ola")
        try await kari.ok("join", [("channel", "general")])
        try await ola.ok("join", [("channel", "general")])
        let message = try await kari.ok("publish", [("channel", "general"), ("body", "react to me")])
        let id = message.at("message", "id")!
        try await ola.ok("react", [("message_id", id), ("emoji", "👍")])
        let added = try await kari.next(type: "reaction")
        #expect(added["op"] == "add")
        #expect(added["emoji"] == "👍")
        #expect(added.at("user", "id") == "ola")
        try await ola.ok("react", [("message_id", id), ("emoji", "👍"), ("remove", true)])
        let removed = try await kari.next(type: "reaction")
        #expect(removed["op"] == "remove")
        let missing = try await ola.request("react", [("message_id", "m_nope"), ("emoji", "👍")])
        #expect(missing.at("error", "code") == "not_found")

        try await kari.ok("publish", [("channel", "general"), ("body", "two")])
        try await kari.ok("publish", [("channel", "general"), ("body", "three")])
        let marked = try await ola.ok("mark_read", [("channel", "general"), ("seq", 2)])
        #expect(marked["read_seq"] == .int(2))
        let backwards = try await ola.ok("mark_read", [("channel", "general"), ("seq", 1)])
        #expect(backwards["read_seq"] == .int(2), "the read position only moves forward")
        let again = try await hub.connect("ola")
        let channel = again.welcome["channels"]?.arrayValue?.first { $0["name"] == "general" }
        #expect(channel?["read_seq"] == .int(2))
        #expect(channel?["last_seq"] == .int(3))
        await hub.stop()
    }

    @Test func leaveWithForgetEndsMembership() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "general")])
        try await kari.ok("leave", [("channel", "general")])
        var again = try await hub.connect("kari")
        #expect(again.welcome["channels"]?.arrayValue?.count == 1, "leave without forget keeps membership")
        try await again.ok("leave", [("channel", "general"), ("forget", true)])
        let history = try await again.request("history", [("channel", "general")])
        #expect(history.at("error", "code") == "forbidden")
        again = try await hub.connect("kari")
        #expect(again.welcome["channels"]?.arrayValue?.isEmpty == true)
        await hub.stop()
    }
}
