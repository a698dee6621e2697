import DugnadCore
import DugnadProtocol
import Testing

/// `GET /api/v1/announcements/{id}/receipts`: the reach view's names, for the author and
/// admins only, paged, with clear errors for bad input.
@Suite struct ReceiptsTests {
    @Test func theAuthorAndAdminsSeeWhoHasNotReadOrAcked() async throws {
        let hub = try await TestHub.start()
        let boss = try await hub.connect("boss", roles: ["leader"])
        let kari = try await hub.connect("kari")
        let ola = try await hub.connect("ola")
        _ = try await hub.connect("per")
        let posted = try await boss.ok(
            "announce", [("title", "Brannøvelse"), ("body", "Fredag 10:00"), ("audience", ["all": true]), ("require_ack", true)])
        let id = try #require(posted.at("announcement", "id")?.stringValue)
        try await kari.ok("ack", [("announcement_id", .string(id)), ("kind", "ack")])
        try await ola.ok("ack", [("announcement_id", .string(id)), ("kind", "read")])

        let author = try await TestHub.token("boss", roles: ["leader"])
        let path = "/api/v1/announcements/\(id)/receipts"
        let unread = try await RawHTTP.json(port: hub.port, "GET", path + "?state=unread", token: author)
        #expect(unread.status == 200)
        #expect(names(unread.json) == ["per"])
        #expect(unread.json["users"]?.arrayValue?.first?["name"]?.stringValue?.isEmpty == false)
        #expect(unread.json["has_more"] == .bool(false))
        let unacked = try await RawHTTP.json(port: hub.port, "GET", path + "?state=unacked&limit=1", token: author)
        #expect(names(unacked.json) == ["ola"])
        #expect(unacked.json["has_more"] == .bool(true))
        let next = try await RawHTTP.json(port: hub.port, "GET", path + "?state=unacked&limit=1&after=ola", token: author)
        #expect(names(next.json) == ["per"])
        #expect(next.json["has_more"] == .bool(false))

        let admin = try await TestHub.token("ada", roles: ["admin"])
        #expect(try await RawHTTP.json(port: hub.port, "GET", path + "?state=unread", token: admin).status == 200)
        // Another leader sees the counts (GET /api/v1/announcements/{id}), not the names.
        let otherLeader = try await TestHub.token("lea", roles: ["leader"])
        #expect(try await RawHTTP.json(port: hub.port, "GET", path + "?state=unread", token: otherLeader).status == 403)
        #expect(try await RawHTTP.json(port: hub.port, "GET", "/api/v1/announcements/\(id)", token: otherLeader).status == 200)
        let member = try await TestHub.token("kari")
        #expect(try await RawHTTP.json(port: hub.port, "GET", path + "?state=unread", token: member).status == 403)
        await hub.stop()
    }

    @Test func badQueriesAreRefusedClearly() async throws {
        let hub = try await TestHub.start()
        let boss = try await hub.connect("boss", roles: ["leader"])
        _ = try await hub.connect("kari")
        let noAck = try await boss.ok("announce", [("title", "Kake"), ("body", "På kjøkkenet"), ("audience", ["all": true])])
        let id = try #require(noAck.at("announcement", "id")?.stringValue)
        let author = try await TestHub.token("boss", roles: ["leader"])
        let path = "/api/v1/announcements/\(id)/receipts"
        for query in [
            "", "?state=seen", "?state=unread&limit=0", "?state=unread&limit=501", "?state=unread&limit=x", "?state=unacked",
        ] {
            let refused = try await RawHTTP.json(port: hub.port, "GET", path + query, token: author)
            #expect(refused.status == 400, "\(query)")
            #expect(refused.json.at("error", "message")?.stringValue?.isEmpty == false)
        }
        let missing = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/announcements/a_nope/receipts?state=unread", token: author)
        #expect(missing.status == 404)
        // Still serving.
        #expect(try await RawHTTP.json(port: hub.port, "GET", path + "?state=unread", token: author).status == 200)
        await hub.stop()
    }

    private func names(_ json: JSONValue) -> [String] {
        json["users"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }
}
