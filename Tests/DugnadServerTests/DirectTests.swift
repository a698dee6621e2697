import DugnadCore
import DugnadProtocol
import DugnadTestSupport
import Foundation
import Testing

/// Direct channels (contract §9, `direct`) on a real hub with real clients: the same
/// channel for the same people, theirs alone, and a first message that reaches the person
/// written to without their knowing any channel name.
@Suite struct DirectTests {
    /// The hub learns a person from their token when they connect (a write queued before
    /// the welcome); `direct` names only people it knows. Waits for the write, not a time.
    private static func known(_ hub: TestHub, _ ids: String...) async throws {
        let deadline = ContinuousClock.now + TestClient.eventTimeout
        for id in ids {
            while try await hub.app.hub.read({ store in try store.user(id: id) }) == nil {
                guard ContinuousClock.now < deadline else { throw TestFailure("'\(id)' never became known") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    private struct TestFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    private static func users(_ ids: String...) -> [(String, JSONValue)] {
        [("users", .array(ids.map(JSONValue.string)))]
    }

    private static func names(_ reply: JSONValue) -> [String] {
        reply["channels"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }

    @Test func theSameSetGetsTheSameChannelAndTheOtherPersonGetsTheFirstMessageLive() async throws {
        let hub = try await TestHub.start()
        let ola = try await hub.connect("ola", name: "Ola Nordmann")
        let kari = try await hub.connect("kari", name: "Kari Hansen")
        let per = try await hub.connect("per", name: "Per Berg")
        try await Self.known(hub, "ola", "kari", "per")

        let opened = try await ola.ok("direct", Self.users("kari"))
        let name = try #require(opened.at("channel", "name")?.stringValue)
        #expect(DirectChannelName.isReserved(name))
        #expect(opened.at("channel", "kind") == "direct")
        #expect(opened.at("channel", "title") == "Kari Hansen", "titled with the other person's name")
        #expect(opened["members"]?.arrayValue?.compactMap { $0["id"]?.stringValue }.sorted() == ["kari", "ola"])

        // Kari learns of it without asking, and the first message reaches her without a join.
        let told = try await kari.next { $0["type"] == "direct_channel" }
        #expect(told.at("channel", "name")?.stringValue == name)
        #expect(told.at("channel", "title") == "Ola Nordmann")
        try await ola.ok("publish", [("channel", .string(name)), ("body", "Hei Kari, har du et minutt?")])
        let first = try await kari.next { $0["type"] == "message" }
        #expect(first["channel"]?.stringValue == name)
        #expect(first["body"] == "Hei Kari, har du et minutt?")

        // Whoever asks, in whatever order: the same channel. Three people get another one.
        let back = try await kari.ok("direct", Self.users("ola"))
        #expect(back.at("channel", "name")?.stringValue == name)
        #expect(back.at("channel", "title") == "Ola Nordmann")
        #expect(back.at("channel", "last_seq") == .int(1))
        // A join (with history or without) titles it for its reader too.
        #expect(try await kari.ok("join", [("channel", .string(name))]).at("channel", "title") == "Ola Nordmann")
        #expect(
            try await ola.ok("join", [("channel", .string(name)), ("history", 5)]).at("channel", "title") == "Kari Hansen")
        let group = try await ola.ok("direct", Self.users("per", "kari"))
        let groupName = try #require(group.at("channel", "name")?.stringValue)
        #expect(groupName != name)
        #expect(group.at("channel", "title") == "Kari Hansen, Per Berg")
        #expect(try await per.ok("direct", Self.users("ola", "kari")).at("channel", "name")?.stringValue == groupName)

        // The directory lists Kari's direct channels with the others' names.
        let directory = try await kari.ok("channels")
        let pair = directory["channels"]?.arrayValue?.first { $0["name"]?.stringValue == name }
        #expect(pair?["kind"] == "direct")
        #expect(pair?["title"] == "Ola Nordmann")
        #expect(pair?["member_count"] == .int(2))
        #expect(pair?["joined"] == .bool(true))

        // A later connection has it in its welcome and follows it from the start.
        await kari.close()
        let again = try await hub.connect("kari", name: "Kari Hansen")
        let welcomed = again.welcome["channels"]?.arrayValue?.first { $0["name"]?.stringValue == name }
        #expect(welcomed?["kind"] == "direct")
        #expect(welcomed?["title"] == "Ola Nordmann")
        try await ola.ok("publish", [("channel", .string(name)), ("body", "Fikk du den?")])
        let second = try await again.next { $0["type"] == "message" && $0["channel"]?.stringValue == name }
        #expect(second["seq"] == .int(2))
        await hub.stop()
    }

    @Test func nobodyElseEntersADirectChannelNotEvenAnAdmin() async throws {
        let hub = try await TestHub.start()
        let ola = try await hub.connect("ola")
        _ = try await hub.connect("kari")
        try await Self.known(hub, "ola", "kari")
        let name = try #require(try await ola.ok("direct", Self.users("kari")).at("channel", "name")?.stringValue)
        let said = try await ola.ok("publish", [("channel", .string(name)), ("body", "bare oss to")])
        let saidID = try #require(said.at("message", "id")?.stringValue)
        let channel = JSONValue.string(name)

        // A third person, even with the name in the token's claim, and an admin.
        let per = try await hub.connect("per", channels: [name])
        let boss = try await hub.connect("boss", roles: ["admin"])
        for outsider in [per, boss] {
            #expect(try await outsider.request("join", [("channel", channel)]).at("error", "code") == "forbidden")
            #expect(try await outsider.request("history", [("channel", channel)]).at("error", "code") == "forbidden")
            #expect(try await outsider.request("members", [("channel", channel)]).at("error", "code") == "forbidden")
            #expect(
                try await outsider.request("publish", [("channel", channel), ("body", "hei")]).at("error", "code")
                    == "forbidden")
            #expect(!Self.names(try await outsider.ok("channels")).contains(name))
            // Search finds nothing there, asked for by name or not; nobody deletes there,
            // not even an admin moderating (who may delete anywhere else).
            #expect(try await outsider.request("search", [("query", "bare"), ("channel", channel)]).at("error", "code") == "forbidden")
            #expect(try await outsider.ok("search", [("query", "bare oss")])["messages"]?.arrayValue?.isEmpty == true)
            #expect(try await outsider.request("delete", [("message_id", .string(saidID))]).at("error", "code") == "forbidden")
        }
        #expect(try await ola.ok("search", [("query", "bare oss")])["messages"]?.arrayValue?.count == 1, "its people find it")
        #expect(
            try await boss.request("describe", [("channel", channel), ("description", "x")]).at("error", "code")
                == "forbidden")
        // Nobody is granted in or taken out, and its people stay.
        let admin = try await TestHub.token("boss", roles: ["admin"])
        let grant = try await RawHTTP.json(port: hub.port, "PUT", "/api/v1/channels/\(name)/members/per", token: admin)
        #expect(grant.status == 403)
        let removal = try await RawHTTP.json(port: hub.port, "DELETE", "/api/v1/channels/\(name)/members/kari", token: admin)
        #expect(removal.status == 403)
        let forget = try await ola.request("leave", [("channel", channel), ("forget", true)])
        #expect(forget.at("error", "code") == "forbidden")
        let members = try await hub.app.hub.read { store in try store.members(channel: name, afterUserID: nil, limit: 10) }
        #expect(members.members.map(\.id).sorted() == ["kari", "ola"])
        // The admin's directory and HTTP listing leave it out too.
        let listed = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels", token: admin)
        #expect(!Self.names(listed.json).contains(name))
        await hub.stop()
    }

    @Test func anAdminEntersADirectChannelOnlyWhereTheDeploymentSaysSo() async throws {
        let hub = try await TestHub.start { $0.hub.adminsReadDirect = true }
        let ola = try await hub.connect("ola")
        _ = try await hub.connect("kari")
        try await Self.known(hub, "ola", "kari")
        let name = try #require(try await ola.ok("direct", Self.users("kari")).at("channel", "name")?.stringValue)
        try await ola.ok("publish", [("channel", .string(name)), ("body", "moderert")])
        let boss = try await hub.connect("boss", roles: ["admin"])
        #expect(Self.names(try await boss.ok("channels")).contains(name))
        let joined = try await boss.ok("join", [("channel", .string(name)), ("history", 10)])
        #expect(joined["messages"]?.arrayValue?.first?["body"] == "moderert")
        // Visibly: the admin is a member now, and the others see it.
        let members = try await ola.ok("members", [("channel", .string(name))])
        #expect(members["members"]?.arrayValue?.compactMap { $0["id"]?.stringValue }.sorted() == ["boss", "kari", "ola"])
        // A person who is not an admin still cannot, and nobody is granted in.
        let per = try await hub.connect("per")
        #expect(try await per.request("join", [("channel", .string(name))]).at("error", "code") == "forbidden")
        let admin = try await TestHub.token("boss", roles: ["admin"])
        let grant = try await RawHTTP.json(port: hub.port, "PUT", "/api/v1/channels/\(name)/members/per", token: admin)
        #expect(grant.status == 403)
        await hub.stop()
    }

    @Test func badDirectRequestsAreRefusedAndTheConnectionGoesOn() async throws {
        let hub = try await TestHub.start()
        let ola = try await hub.connect("ola")
        _ = try await hub.connect("kari")
        try await Self.known(hub, "ola", "kari")
        let refusals: [([(String, JSONValue)], String)] = [
            (Self.users("ola"), "bad_request"),
            (Self.users("kari", "ola"), "bad_request"),
            (Self.users("kari", "kari"), "bad_request"),
            (Self.users(), "bad_request"),
            ([("users", .array((1...9).map { .string("u\($0)") }))], "bad_request"),
            ([("users", "kari")], "bad_request"),
            ([], "bad_request"),
            (Self.users("nobody-yet"), "not_found"),
            (Self.users("kari", "nobody-yet"), "not_found"),
        ]
        for (fields, code) in refusals {
            let reply = try await ola.request("direct", fields)
            #expect(reply.at("error", "code")?.stringValue == code, "\(fields)")
        }
        #expect(try await hub.app.hub.read { store in try store.memberships(userID: "kari") }.isEmpty, "nothing was made")
        // The direct form is nobody's to take by name: not by a join, not by an admin.
        let squat = "dm-" + String(repeating: "0", count: 32)
        #expect(try await ola.request("join", [("channel", .string(squat))]).at("error", "code") == "forbidden")
        let admin = try await TestHub.token("boss", roles: ["admin"])
        let created = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels", token: admin, body: #"{"name":"\#(squat)","kind":"public"}"#)
        #expect(created.status == 400)
        let direct = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels", token: admin, body: #"{"name":"dm-team","kind":"direct"}"#)
        #expect(direct.status == 400)
        #expect(try await hub.app.hub.read { store in try store.channel(named: squat) } == nil)
        try await ola.ok("ping")
        await hub.stop()
    }
}
