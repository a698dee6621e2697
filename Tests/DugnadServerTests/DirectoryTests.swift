import DugnadCore
import DugnadProtocol
import DugnadTestSupport
import Foundation
import Testing

/// Default channels and the channel directory (contract §9, "People"), on a real hub with
/// real clients.
@Suite struct DirectoryTests {
    private static func names(_ reply: JSONValue) -> [String] {
        reply["channels"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }

    private static func entry(_ reply: JSONValue, _ name: String) -> JSONValue? {
        reply["channels"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    // MARK: Default channels

    @Test func everyoneIsInTheDefaultChannelsFromTheFirstConnectionAndStaysThere() async throws {
        let hub = try await TestHub.start { $0.hub.defaultChannels = ["general", "alle"] }
        let created = try await hub.app.hub.read { store in try store.channel(named: "alle") }
        #expect(created?.kind == .public, "the hub creates the default channels at start")

        let ola = try await hub.connect("ola")
        let welcomed = ola.welcome["channels"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(welcomed == ["alle", "general"], "the very first welcome lists them")
        let kari = try await hub.connect("kari")
        let directory = try await kari.ok("channels")
        #expect(Self.entry(directory, "general")?["member_count"] == .int(2))
        #expect(Self.entry(directory, "general")?["joined"] == .bool(true))

        // Leaving for good is refused; unsubscribing is not; the connection goes on.
        let forget = try await ola.request("leave", [("channel", "general"), ("forget", true)])
        #expect(forget.at("error", "code") == "forbidden")
        try await ola.ok("join", [("channel", "general")])
        try await ola.ok("leave", [("channel", "general")])
        await ola.close()
        let again = try await hub.connect("ola")
        let rewelcomed = again.welcome["channels"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(rewelcomed == ["alle", "general"], "a second connection finds them once, unchanged")

        // A banned person gets nothing: no connection, no membership.
        let admin = try await TestHub.token("boss", roles: ["admin"])
        let banned = try await RawHTTP.json(port: hub.port, "POST", "/api/v1/users/troll/ban", token: admin, body: "{}")
        #expect(banned.status == 200)
        let refused = try await hub.rawConnect(path: "/ws?token=\(try await TestHub.token("troll"))").closed()
        #expect(refused.code == 4500)
        #expect(try await hub.app.hub.read { store in try store.memberships(userID: "troll") }.isEmpty)
        await hub.stop()
    }

    @Test func aNewHireInADefaultChannelReceivesTheAnnouncementsToItStillCurrent() async throws {
        let hub = try await TestHub.start { $0.hub.defaultChannels = ["alle"] }
        let boss = try await hub.connect("boss", roles: ["leader"])
        let until = Int64(WallClock.nowMillis()) + 3_600_000
        let posted = try await boss.ok(
            "announce",
            [("title", "Sommerfest"), ("body", "Fredag kl. 16."), ("audience", ["channels": ["alle"]]), ("until", .int(until))])
        let id = try #require(posted.at("announcement", "id")?.stringValue)
        let newHire = try await hub.connect("nyansatt")
        let inWelcome = newHire.welcome["announcements"]?.arrayValue?.contains { $0["id"] == .string(id) } ?? false
        if !inWelcome {
            let event = try await newHire.next { $0["type"] == "announcement" && $0["id"] == .string(id) }
            #expect(event["title"] == "Sommerfest")
        }
        await hub.stop()
    }

    // MARK: Who finds what

    @Test func theDirectoryListsPublicChannelsWithFiguresAndNeverAPrivateOneToANonMember() async throws {
        let hub = try await TestHub.start()
        _ = try await hub.app.hub.createChannel(name: "board", kind: .private, title: "Board")
        _ = try await hub.app.hub.createChannel(name: "news", kind: .announce, title: "News")
        _ = try await hub.app.hub.createChannel(name: "kaffe", kind: .public, title: "Kaffe")
        let ola = try await hub.connect("ola")
        try await ola.ok("join", [("channel", "kaffe")])
        let published = try await ola.ok("publish", [("channel", "kaffe"), ("body", "kaffe er klar")])

        // Kari's token lists the board, but she never joined it: the directory does not show it.
        let kari = try await hub.connect("kari", channels: ["board"])
        let seen = try await kari.ok("channels")
        #expect(Self.names(seen) == ["kaffe", "news"])
        #expect(seen["has_more"] == .bool(false))
        let kaffe = try #require(Self.entry(seen, "kaffe"))
        #expect(kaffe["kind"] == "public")
        #expect(kaffe["title"] == "Kaffe")
        #expect(kaffe["description"] == .null)
        #expect(kaffe["member_count"] == .int(1))
        #expect(kaffe["joined"] == .bool(false))
        #expect(kaffe["last_activity"] == published["message"]?["ts"])
        #expect(kaffe["unread_mentions"] == .int(0))
        #expect(Self.entry(seen, "news")?["last_activity"] == .null)
        #expect(Self.names(try await kari.ok("channels", [("query", "board")])).isEmpty)

        // Once granted, she sees it (joined); an admin sees it without being in it.
        let admin = try await TestHub.token("boss", roles: ["admin"])
        let granted = try await RawHTTP.json(port: hub.port, "PUT", "/api/v1/channels/board/members/kari", token: admin)
        #expect(granted.status == 201)
        let member = try await kari.ok("channels")
        #expect(Self.names(member) == ["board", "kaffe", "news"])
        #expect(Self.entry(member, "board")?["joined"] == .bool(true))
        #expect(Self.entry(member, "board")?["member_count"] == .int(1))
        let boss = try await hub.connect("boss", roles: ["admin"])
        let asAdmin = try await boss.ok("channels")
        #expect(Self.names(asAdmin) == ["board", "kaffe", "news"])
        #expect(Self.entry(asAdmin, "board")?["joined"] == .bool(false))
        // Per is in nothing: the board stays out of his directory.
        let per = try await hub.connect("per")
        #expect(Self.names(try await per.ok("channels")) == ["kaffe", "news"])

        // The HTTP twin: the fields it always had, and the directory's.
        let listed = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/channels?query=KAF", token: try await TestHub.token("per"))
        #expect(listed.status == 200)
        #expect(Self.names(listed.json) == ["kaffe"])
        let overHTTP = try #require(Self.entry(listed.json, "kaffe"))
        #expect(overHTTP["last_seq"] == .int(1))
        #expect(overHTTP["epoch"]?.stringValue != nil)
        #expect(overHTTP["member_count"] == .int(1))
        #expect(overHTTP["last_activity"] == published["message"]?["ts"])
        #expect(overHTTP["description"] == .null)
        await hub.stop()
    }

    @Test func theQueryFindsNorwegianLettersWhateverTheirCase() async throws {
        let hub = try await TestHub.start()
        _ = try await hub.app.hub.createChannel(name: "aarsmote", kind: .public, title: "Årsmøtet 2027")
        _ = try await hub.app.hub.createChannel(name: "general", kind: .public, title: "General")
        let ola = try await hub.connect("ola")
        #expect(Self.names(try await ola.ok("channels", [("query", "ÅRSMØ")])) == ["aarsmote"])
        #expect(Self.names(try await ola.ok("channels", [("query", "årsmøte")])) == ["aarsmote"])
        #expect(Self.names(try await ola.ok("channels", [("query", "AARS")])) == ["aarsmote"], "the name too")
        #expect(Self.names(try await ola.ok("channels", [("query", "2027")])) == ["aarsmote"])
        #expect(Self.names(try await ola.ok("channels", [("query", "")])) == ["aarsmote", "general"])
        #expect(Self.names(try await ola.ok("channels", [("query", "ærlig")])).isEmpty)
        let overHTTP = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/channels?query=%C3%85RSM%C3%98", token: try await TestHub.token("ola"))
        #expect(overHTTP.status == 200)
        #expect(Self.names(overHTTP.json) == ["aarsmote"])
        await hub.stop()
    }

    // MARK: Paging and bounds

    @Test func pagesFollowAfterAndLimitAndStayWithinTheReplyBound() async throws {
        let hub = try await TestHub.start { $0.hub.maxReplyBytes = 4_096 }
        for index in 1...5 {
            _ = try await hub.app.hub.createChannel(
                name: "c0\(index)", kind: .public, title: "Channel \(index)",
                description: String(repeating: "ø", count: 1_000))
        }
        let ola = try await hub.connect("ola")
        let first = try await ola.ok("channels", [("limit", 2)])
        #expect(Self.names(first) == ["c01"], "two entries of 2,000 bytes each do not fit 4,096 with the rest")
        #expect(first["has_more"] == .bool(true))
        let second = try await ola.ok("channels", [("after", "c01"), ("limit", 1)])
        #expect(Self.names(second) == ["c02"])
        #expect(second["has_more"] == .bool(true))
        let last = try await ola.ok("channels", [("after", "c04"), ("limit", 200)])
        #expect(Self.names(last) == ["c05"])
        #expect(last["has_more"] == .bool(false))
        #expect(Self.entry(last, "c05")?["description"]?.stringValue?.count == 1_000)
        await hub.stop()
    }

    @Test func badInputIsABadRequestAndTheConnectionStaysUsable() async throws {
        let hub = try await TestHub.start()
        let ola = try await hub.connect("ola")
        let bad: [[(String, JSONValue)]] = [
            [("limit", 0)],
            [("limit", 201)],
            [("limit", "ten")],
            [("query", .string(String(repeating: "a", count: 101)))],
            [("query", 5)],
            [("query", "line\nbreak")],
            [("after", "Not A Name")],
        ]
        for fields in bad {
            let reply = try await ola.request("channels", fields)
            #expect(reply.at("error", "code") == "bad_request", "\(fields)")
        }
        try await ola.ok("ping")
        #expect(try await ola.ok("channels")["has_more"] == .bool(false))
        let token = try await TestHub.token("ola")
        for query in ["limit=0", "limit=501", "query=" + String(repeating: "a", count: 101), "after=%20"] {
            let reply = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels?\(query)", token: token)
            #expect(reply.status == 400, "\(query)")
        }
        await hub.stop()
    }

    // MARK: Descriptions

    @Test func descriptionsAreWrittenByTheChannelsCreatorAndAdminsOnly() async throws {
        let hub = try await TestHub.start()
        let ola = try await hub.connect("ola")
        try await ola.ok("join", [("channel", "prosjekt")])
        let described = try await ola.ok("describe", [("channel", "prosjekt"), ("description", "  Prosjekt Ø  ")])
        #expect(described.at("channel", "description") == "Prosjekt Ø")
        let listed = try await ola.ok("channels", [("query", "prosjekt")])
        #expect(Self.entry(listed, "prosjekt")?["description"] == "Prosjekt Ø")

        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "prosjekt")])
        let refused = try await kari.request("describe", [("channel", "prosjekt"), ("description", "mine now")])
        #expect(refused.at("error", "code") == "forbidden")
        let missing = try await kari.request("describe", [("channel", "nowhere"), ("description", "x")])
        #expect(missing.at("error", "code") == "forbidden", "the same answer as for a channel that is not hers")
        let tooLong = try await ola.request(
            "describe", [("channel", "prosjekt"), ("description", .string(String(repeating: "x", count: 1_001)))])
        #expect(tooLong.at("error", "code") == "bad_request")
        let wrongType = try await ola.request("describe", [("channel", "prosjekt"), ("description", 7)])
        #expect(wrongType.at("error", "code") == "bad_request")
        let absent = try await ola.request("describe", [("channel", "prosjekt")])
        #expect(absent.at("error", "code") == "bad_request")

        let admin = try await TestHub.token("boss", roles: ["admin"])
        let byAdmin = try await RawHTTP.json(
            port: hub.port, "PUT", "/api/v1/channels/prosjekt", token: admin, body: #"{"description":"Fra admin"}"#)
        #expect(byAdmin.status == 200)
        #expect(byAdmin.json.at("channel", "description") == "Fra admin")
        let byOther = try await RawHTTP.json(
            port: hub.port, "PUT", "/api/v1/channels/prosjekt", token: try await TestHub.token("kari"),
            body: #"{"description":"nope"}"#)
        #expect(byOther.status == 403)
        let unknown = try await RawHTTP.json(
            port: hub.port, "PUT", "/api/v1/channels/nowhere", token: admin, body: #"{"description":"x"}"#)
        #expect(unknown.status == 404)
        let removed = try await ola.ok("describe", [("channel", "prosjekt"), ("description", .null)])
        #expect(removed.at("channel", "description") == .null)
        let created = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels", token: admin,
            body: #"{"name":"hms","title":"HMS","description":"Helse, miljø og sikkerhet"}"#)
        #expect(created.status == 201)
        #expect(created.json.at("channel", "description") == "Helse, miljø og sikkerhet")
        await hub.stop()
    }
}
