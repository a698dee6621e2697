import DugnadCore
import DugnadProtocol
import Foundation
import Testing

/// `edit` and `delete` (contract §9, "People") on a real hub with real clients: who may,
/// what subscribers see, what history and recovery show afterwards.
@Suite struct EditDeleteTests {
    private static func publish(_ client: TestClient, _ channel: String, _ body: String) async throws -> JSONValue {
        try #require(try await client.ok("publish", [("channel", .string(channel)), ("body", .string(body))])["message"])
    }

    @Test func theAuthorsEditReachesEverySubscriberAndSomeoneElsesEditIsForbidden() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        let ola = try await hub.connect("ola")
        try await kari.ok("join", [("channel", "kaffe")])
        try await ola.ok("join", [("channel", "kaffe")])
        let message = try await Self.publish(kari, "kaffe", "Kaffen er klar kl. 10")
        let id = try #require(message["id"])

        let refused = try await ola.request("edit", [("message_id", id), ("body", "Ola was here")])
        #expect(refused.at("error", "code") == "forbidden")
        #expect(refused.at("error", "message") == "only its author may edit a message")

        let edited = try await kari.ok("edit", [("message_id", id), ("body", "Kaffen er klar kl. 11")])
        #expect(edited.at("message", "body") == "Kaffen er klar kl. 11")
        let editedAt = try #require(edited.at("message", "edited_at")?.int64Value)
        #expect(editedAt >= (message["ts"]?.int64Value ?? .max))
        let event = try await ola.next(type: "message_edited")
        #expect(event["channel"] == "kaffe")
        #expect(event["seq"] == message["seq"])
        #expect(event["id"] == id)
        #expect(event["body"] == "Kaffen er klar kl. 11")
        #expect(event["edited_at"] == .int(editedAt))
        _ = try await kari.next(type: "message_edited")

        let history = try await ola.ok("history", [("channel", "kaffe")])
        let shown = try #require(history["messages"]?.arrayValue?.first)
        #expect(shown["body"] == "Kaffen er klar kl. 11")
        #expect(shown["edited_at"] == .int(editedAt))
        #expect(shown["deleted"] == nil)
        #expect(await ola.collect(type: "message_edited", for: .zero).isEmpty, "the refused edit sent nothing")
        await hub.stop()
    }

    @Test func anEditOutsideTheWindowIsRefusedAndAnEditOfAnAnnouncementToo() async throws {
        let hub = try await TestHub.start { $0.hub.editWindowMillis = 1 }
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "kaffe")])
        let message = try await Self.publish(kari, "kaffe", "first")
        let sentAt = try #require(message["ts"]?.int64Value)
        // The window is 1 ms: wait until the wall clock has passed it (a condition, not a duration).
        while WallClock.nowMillis() <= sentAt + 1 { try await Task.sleep(for: .milliseconds(2)) }
        let late = try await kari.request("edit", [("message_id", message["id"] ?? .null), ("body", "second")])
        #expect(late.at("error", "code") == "forbidden")
        #expect(late.at("error", "message")?.stringValue?.contains("can be edited for 1 ms after it was sent") == true)

        let announcement = try await kari.request("edit", [("message_id", "a_01JABCDEFGHJKMNPQRSTVWXYZ0"), ("body", "x")])
        #expect(announcement.at("error", "code") == "bad_request")
        #expect(
            announcement.at("error", "message")?.stringValue?.contains("announcements are neither edited nor deleted") == true)
        let deleteAnnouncement = try await kari.request("delete", [("message_id", "a_01JABCDEFGHJKMNPQRSTVWXYZ0")])
        #expect(deleteAnnouncement.at("error", "code") == "bad_request")

        let history = try await kari.ok("history", [("channel", "kaffe")])
        #expect(history["messages"]?.arrayValue?.first?["body"] == "first", "a refused edit changes nothing")
        await hub.stop()
    }

    @Test func badEditsAndDeletesGetClearErrorsAndTheConnectionGoesOn() async throws {
        let hub = try await TestHub.start { $0.hub.limits.maxBodyBytes = 100 }
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "kaffe")])
        let message = try await Self.publish(kari, "kaffe", "hei")
        let id = message["id"] ?? .null
        let cases: [([(String, JSONValue)], String, String)] = [
            ([("body", "x")], "bad_request", "missing field 'message_id'"),
            ([("message_id", ""), ("body", "x")], "bad_request", "'message_id' must not be empty"),
            ([("message_id", id)], "bad_request", "missing field 'body'"),
            ([("message_id", id), ("body", "")], "bad_request", "'body' must not be empty"),
            ([("message_id", id), ("body", 7)], "bad_request", "'body' must be a string"),
            ([("message_id", id), ("body", .string(String(repeating: "x", count: 101)))], "too_large", "'body' is larger"),
            ([("message_id", "m_nothing"), ("body", "x")], "not_found", "no message 'm_nothing'"),
        ]
        for (fields, code, message) in cases {
            let reply = try await kari.request("edit", fields)
            #expect(reply.at("error", "code") == .string(code), "\(fields)")
            #expect(reply.at("error", "message")?.stringValue?.hasPrefix(message) == true, "\(reply.jsonString())")
        }
        let missing = try await kari.request("delete", [("message_id", "m_nothing")])
        #expect(missing.at("error", "code") == "not_found")
        let typeless = try await kari.request("delete", [("message_id", 5)])
        #expect(typeless.at("error", "code") == "bad_request")
        let history = try await kari.ok("history", [("channel", "kaffe")])
        #expect(history["messages"]?.arrayValue?.map { $0["body"] } == ["hei"], "nothing was lost")
        await hub.stop()
    }

    @Test func theAuthorAndAnAdminMayDeleteOthersMayNotAndHistoryKeepsTheSeqs() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        let ola = try await hub.connect("ola")
        let admin = try await hub.connect("boss", roles: ["admin"])
        try await kari.ok("join", [("channel", "kaffe")])
        try await ola.ok("join", [("channel", "kaffe")])
        let first = try await Self.publish(kari, "kaffe", "første")
        let second = try await Self.publish(ola, "kaffe", "andre")
        let third = try await Self.publish(kari, "kaffe", "tredje hemmelighet")

        let refused = try await ola.request("delete", [("message_id", first["id"] ?? .null)])
        #expect(refused.at("error", "code") == "forbidden")
        #expect(refused.at("error", "message") == "only its author or an admin may delete a message")

        try await ola.ok("delete", [("message_id", second["id"] ?? .null)])
        let byAuthor = try await kari.next(type: "message_deleted")
        #expect(byAuthor["id"] == second["id"])
        #expect(byAuthor["seq"] == second["seq"])
        #expect(byAuthor["channel"] == "kaffe")

        // The admin is not a member of the channel: moderation needs none.
        try await admin.ok("delete", [("message_id", third["id"] ?? .null)])
        let byAdmin = try await ola.next { $0["type"] == "message_deleted" && $0["id"] == third["id"] }
        #expect(byAdmin["seq"] == third["seq"])

        let again = try await kari.request("delete", [("message_id", third["id"] ?? .null)])
        #expect(again.at("error", "code") == "not_found")
        let editDeleted = try await kari.request("edit", [("message_id", third["id"] ?? .null), ("body", "tilbake")])
        #expect(editDeleted.at("error", "code") == "not_found")

        let history = try #require(try await kari.ok("history", [("channel", "kaffe")])["messages"]?.arrayValue)
        #expect(history.seqs == [1, 2, 3], "seqs stay gapless")
        #expect(history.map { $0["deleted"] } == [nil, .bool(true), .bool(true)])
        #expect(history.map { $0["body"] } == ["første", nil, nil])
        let token = try await TestHub.token("kari")
        let http = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels/kaffe/messages", token: token)
        #expect(http.status == 200)
        #expect(http.json["messages"]?.arrayValue?.map { $0["deleted"] } == [nil, .bool(true), .bool(true)])
        #expect(!(http.json.jsonString().contains("hemmelighet")))

        // Gone from storage, not hidden: the stored body is empty.
        let thirdID = try #require(third["id"]?.stringValue)
        let stored = try await hub.app.hub.read { store in try store.message(id: thirdID) }
        #expect(stored?.body == "")
        #expect(stored?.deleted == true)

        // Only the admin's deletion of someone else's message is audited.
        let adminToken = try await TestHub.token("boss", roles: ["admin"])
        let audit = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/audit", token: adminToken)
        let deletions = audit.json["entries"]?.arrayValue?.filter { $0["action"] == "message.deleted" } ?? []
        #expect(deletions.count == 1)
        #expect(deletions.first?["actor"] == "boss")
        #expect(deletions.first?["target"] == third["id"])
        #expect(deletions.first?.at("detail", "author") == "kari")
        await hub.stop()
    }

    /// Edits and deletions are writes: they take from the person's publish budget, over
    /// WebSocket and HTTP alike, so neither multiplies it. A rate so low that nothing refills
    /// during the test, however slow the machine.
    @Test func editsAndDeletionsTakeFromThePublishBudget() async throws {
        let hub = try await TestHub.start { $0.hub.publishRate = 0.001; $0.hub.publishBurst = 3 }
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "kaffe")])
        let first = try #require(try await Self.publish(kari, "kaffe", "en")["id"])
        let second = try #require(try await Self.publish(kari, "kaffe", "to")["id"])
        try await kari.ok("edit", [("message_id", first), ("body", "én")])
        let refused = try await kari.request("delete", [("message_id", second)])
        #expect(refused.at("error", "code") == "rate_limited")
        #expect((refused.at("error", "retry_after_ms")?.int64Value ?? 0) > 0)
        let token = try await TestHub.token("kari")
        let overHTTP = try await RawHTTP.json(port: hub.port, "DELETE", "/api/v1/messages/\(second.stringValue ?? "")", token: token)
        #expect(overHTTP.status == 429)
        #expect(overHTTP.json.at("error", "code") == "rate_limited")
        let history = try await kari.ok("history", [("channel", "kaffe")])
        #expect(history["messages"]?.arrayValue?.map { $0["deleted"] == .bool(true) } == [false, false], "nothing deleted")
        await hub.stop()
    }

    @Test func aClientBackWithSinceGetsTheEditsAndDeletionsMadeWhileItWasAway() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        var ola = try await hub.connect("ola")
        try await kari.ok("join", [("channel", "kaffe")])
        let joined = try await ola.ok("join", [("channel", "kaffe")])
        let epoch = try #require(joined.at("channel", "epoch"))
        var sent: [JSONValue] = []
        for body in ["en", "to", "tre"] { sent.append(try await Self.publish(kari, "kaffe", body)) }
        _ = try await ola.next { $0["type"] == "message" && $0["seq"] == 3 }
        // An edit Ola saw live: a recovery may send it again (harmless: it carries the body).
        _ = try await kari.ok("edit", [("message_id", sent[2]["id"] ?? .null), ("body", "tre!")])
        _ = try await ola.next(type: "message_edited")
        await ola.close()

        try await kari.ok("edit", [("message_id", sent[0]["id"] ?? .null), ("body", "en (rettet)")])
        try await kari.ok("delete", [("message_id", sent[1]["id"] ?? .null)])
        _ = try await Self.publish(kari, "kaffe", "fire")

        ola = try await hub.connect("ola")
        let recovered = try await ola.ok("join", [("channel", "kaffe"), ("since", 3), ("epoch", epoch)])
        #expect(recovered["recovered"] == .bool(true))
        #expect(recovered["messages"]?.arrayValue?.seqs == [4])
        let changes = try #require(recovered["changes"]?.arrayValue)
        let bySeq = Dictionary(changes.map { ($0["seq"]?.int64Value ?? 0, $0) }, uniquingKeysWith: { $1 })
        #expect(bySeq[1]?["body"] == "en (rettet)")
        #expect(bySeq[1]?["edited_at"] != nil)
        #expect(bySeq[2]?["deleted"] == .bool(true))
        #expect(bySeq[2]?["body"] == nil)
        #expect(bySeq[3]?["body"] == "tre!", "the edit made while the channel's newest seq was 3")
        #expect(recovered["changes_truncated"] == nil)

        // Caught up: a recovery from 4 has nothing more to tell.
        let caughtUp = try await ola.ok("join", [("channel", "kaffe"), ("since", 4), ("epoch", epoch)])
        #expect(caughtUp["changes"]?.arrayValue?.isEmpty == true)
        #expect(caughtUp["messages"]?.arrayValue?.isEmpty == true)
        await hub.stop()
    }

    @Test func botsAndIntegrationsEditAndDeleteOverHTTPByTheSameRules() async throws {
        let hub = try await TestHub.start()
        let ola = try await hub.connect("ola")
        try await ola.ok("join", [("channel", "kaffe")])
        let kariToken = try await TestHub.token("kari")
        let olaToken = try await TestHub.token("ola")
        let posted = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels/kaffe/messages", token: kariToken, body: #"{"body":"hei"}"#)
        #expect(posted.status == 403, "Kari is not a member yet")
        try await (try await hub.connect("kari")).ok("join", [("channel", "kaffe")])
        let created = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels/kaffe/messages", token: kariToken, body: #"{"body":"hei"}"#)
        let id = try #require(created.json.at("message", "id")?.stringValue)

        let foreign = try await RawHTTP.json(
            port: hub.port, "PATCH", "/api/v1/messages/\(id)", token: olaToken, body: #"{"body":"Ola"}"#)
        #expect(foreign.status == 403)
        let empty = try await RawHTTP.json(port: hub.port, "PATCH", "/api/v1/messages/\(id)", token: kariToken, body: "{}")
        #expect(empty.status == 400)
        let edited = try await RawHTTP.json(
            port: hub.port, "PATCH", "/api/v1/messages/\(id)", token: kariToken, body: #"{"body":"hei, @ola"}"#)
        #expect(edited.status == 200)
        #expect(edited.json.at("message", "body") == "hei, @ola")
        #expect(edited.json.at("message", "mentions") == ["ola"])
        #expect(try await ola.next(type: "message_edited")["body"] == "hei, @ola")
        #expect(try await ola.next(type: "mention").at("message", "id") == .string(id))

        let refused = try await RawHTTP.json(port: hub.port, "DELETE", "/api/v1/messages/\(id)", token: olaToken)
        #expect(refused.status == 403)
        let deleted = try await RawHTTP.json(port: hub.port, "DELETE", "/api/v1/messages/\(id)", token: kariToken)
        #expect(deleted.status == 204)
        #expect(try await ola.next(type: "message_deleted")["id"] == .string(id))
        let gone = try await RawHTTP.json(port: hub.port, "DELETE", "/api/v1/messages/\(id)", token: kariToken)
        #expect(gone.status == 404)
        await hub.stop()
    }
}
