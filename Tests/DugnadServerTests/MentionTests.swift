import DugnadCore
import DugnadProtocol
import Foundation
import Testing

/// Mentions (contract §9, "People"): `@id` and `@channel` in a body, the `mention` event on
/// every connection of a mentioned member, and the unread count per channel.
@Suite struct MentionTests {
    private static func unreadMentions(_ channels: JSONValue?, _ name: String) -> JSONValue? {
        channels?.arrayValue?.first { $0["name"]?.stringValue == name }?["unread_mentions"]
    }

    /// Waits for the connection's own `read_position` after a `mark_read` that Ola makes:
    /// every event the hub sent Ola before it has arrived by then (events reach a
    /// connection in the writer's commit order), so "no mention came" can be checked
    /// without waiting for a duration.
    private static func barrier(_ client: TestClient, channel: String) async throws {
        try await client.ok("mark_read", [("channel", .string(channel)), ("seq", 0)])
        _ = try await client.next(type: "read_position")
    }

    @Test func aMentionReachesEveryConnectionOfTheMemberAndNobodyElse() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        let olaHere = try await hub.connect("ola.nordmann")
        // Ola's second device follows nothing: a mention reaches it all the same.
        let olaPhone = try await hub.connect("ola.nordmann")
        let per = try await hub.connect("per")
        for client in [kari, olaHere, per] { try await client.ok("join", [("channel", "kaffe")]) }

        let published = try await kari.ok("publish", [("channel", "kaffe"), ("body", "@ola.nordmann, kaffe? Spør @nobody.")])
        #expect(published.at("message", "mentions") == ["ola.nordmann"], "only members are mentioned")
        for connection in [olaHere, olaPhone] {
            let mention = try await connection.next(type: "mention")
            #expect(mention["channel"] == "kaffe")
            #expect(mention.at("message", "id") == published.at("message", "id"))
            #expect(mention.at("message", "body") == "@ola.nordmann, kaffe? Spør @nobody.")
            #expect(mention.at("message", "mentions") == ["ola.nordmann"])
        }
        let message = try await per.next(type: "message")
        #expect(message["mentions"] == ["ola.nordmann"])
        try await Self.barrier(per, channel: "kaffe")
        try await Self.barrier(kari, channel: "kaffe")
        #expect(await per.collect(type: "mention", for: .zero).isEmpty)
        #expect(await kari.collect(type: "mention", for: .zero).isEmpty, "the author is not told")
        await hub.stop()
    }

    @Test func aMentionOfSomeoneOutsideAPrivateChannelRevealsNothingAndReachesNoOne() async throws {
        let hub = try await TestHub.start()
        _ = try await hub.app.hub.createChannel(name: "board", kind: .private, title: "Board")
        let kari = try await hub.connect("kari", channels: ["board"])
        let outsider = try await hub.connect("ola")
        try await kari.ok("join", [("channel", "board")])
        try await outsider.ok("join", [("channel", "kaffe")])

        let published = try await kari.ok("publish", [("channel", "board"), ("body", "@ola should not know")])
        #expect(published.at("message", "mentions") == nil, "the same as for an id nobody has")
        let unknown = try await kari.ok("publish", [("channel", "board"), ("body", "@ghost should not know")])
        #expect(unknown.at("message", "mentions") == nil)
        try await Self.barrier(outsider, channel: "kaffe")
        #expect(await outsider.collect(type: "mention", for: .zero).isEmpty)
        let directory = try await outsider.ok("channels")
        #expect(directory["channels"]?.arrayValue?.contains { $0["name"] == "board" } == false)
        await hub.stop()
    }

    @Test func unreadMentionsCountInTheWelcomeAndTheDirectoryAndClearWhenRead() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        var ola = try await hub.connect("ola")
        try await kari.ok("join", [("channel", "kaffe")])
        try await ola.ok("join", [("channel", "kaffe")])
        _ = try await kari.ok("publish", [("channel", "kaffe"), ("body", "@ola første")])
        _ = try await kari.ok("publish", [("channel", "kaffe"), ("body", "ingen nevnt")])
        let third = try await kari.ok("publish", [("channel", "kaffe"), ("body", "@ola andre")])
        _ = try await ola.next { $0["type"] == "mention" && $0.at("message", "seq") == 3 }

        let directory = try await ola.ok("channels")
        #expect(Self.unreadMentions(directory["channels"], "kaffe") == 2)
        await ola.close()
        ola = try await hub.connect("ola")
        #expect(Self.unreadMentions(ola.welcome["channels"], "kaffe") == 2)

        // Reading past the first mention leaves one; reading past both clears them.
        try await ola.ok("mark_read", [("channel", "kaffe"), ("seq", 2)])
        #expect(Self.unreadMentions(try await ola.ok("channels")["channels"], "kaffe") == 1)
        try await ola.ok("mark_read", [("channel", "kaffe"), ("seq", third.at("message", "seq") ?? 3)])
        #expect(Self.unreadMentions(try await ola.ok("channels")["channels"], "kaffe") == 0)
        let kariDirectory = try await kari.ok("channels")
        #expect(Self.unreadMentions(kariDirectory["channels"], "kaffe") == 0, "the author's own mentions are not counted")
        await hub.stop()
    }

    @Test func anEditThatAddsAMentionMentionsOnce() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        let ola = try await hub.connect("ola")
        try await kari.ok("join", [("channel", "kaffe")])
        try await ola.ok("join", [("channel", "kaffe")])
        let published = try await kari.ok("publish", [("channel", "kaffe"), ("body", "kaffe?")])
        let id = published.at("message", "id") ?? .null
        let edited = try await kari.ok("edit", [("message_id", id), ("body", "kaffe, @ola?")])
        #expect(edited.at("message", "mentions") == ["ola"])
        let mention = try await ola.next(type: "mention")
        #expect(mention.at("message", "body") == "kaffe, @ola?")
        #expect(mention.at("message", "edited_at") != nil)
        let edit = try await ola.next(type: "message_edited")
        #expect(edit["mentions"] == ["ola"])

        try await kari.ok("edit", [("message_id", id), ("body", "kaffe, @ola? Nå!")])
        _ = try await ola.next { $0["type"] == "message_edited" && $0["body"] == "kaffe, @ola? Nå!" }
        #expect(await ola.collect(type: "mention", for: .zero).isEmpty, "the second edit mentions nobody new")
        #expect(Self.unreadMentions(try await ola.ok("channels")["channels"], "kaffe") == 1)

        // A deleted message's mentions go with it.
        try await kari.ok("delete", [("message_id", id)])
        _ = try await ola.next(type: "message_deleted")
        #expect(Self.unreadMentions(try await ola.ok("channels")["channels"], "kaffe") == 0)
        await hub.stop()
    }

    @Test func atChannelMentionsEveryMemberWhenALeaderWritesItAndNobodyOtherwise() async throws {
        let hub = try await TestHub.start()
        let leader = try await hub.connect("sjef", roles: ["leader"])
        let kari = try await hub.connect("kari")
        let ola = try await hub.connect("ola")
        for client in [leader, kari, ola] { try await client.ok("join", [("channel", "kaffe")]) }

        let byMember = try await kari.ok("publish", [("channel", "kaffe"), ("body", "@channel kake!")])
        #expect(byMember.at("message", "mentions_channel") == nil)
        let byLeader = try await leader.ok("publish", [("channel", "kaffe"), ("body", "@channel møte kl. 14")])
        #expect(byLeader.at("message", "mentions_channel") == .bool(true))
        for client in [kari, ola] {
            let mention = try await client.next(type: "mention")
            #expect(mention.at("message", "body") == "@channel møte kl. 14", "the member's @channel mentioned no one")
        }
        try await Self.barrier(leader, channel: "kaffe")
        #expect(await leader.collect(type: "mention", for: .zero).isEmpty)
        #expect(Self.unreadMentions(try await ola.ok("channels")["channels"], "kaffe") == 1)
        await hub.stop()
    }
}
