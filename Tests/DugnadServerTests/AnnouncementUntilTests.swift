import DugnadCore
import DugnadProtocol
import Testing

/// `announce` with `until`: who joins the audience while it is current — a new hire's
/// first sign-in, a new member of its channel — receives it and counts in its figures.
@Suite struct AnnouncementUntilTests {
    /// The announcement `id` reaches `client`: in its welcome, or as an `announcement` event
    /// once the hub has added it to the audience (whichever came first; both may come).
    private func receives(_ id: String, _ client: TestClient) async throws -> Bool {
        let inWelcome = client.welcome["announcements"]?.arrayValue?.contains { $0["id"] == .string(id) } ?? false
        if inWelcome { return true }
        let event = try await client.next { $0["type"] == "announcement" && $0["id"] == .string(id) }
        return event["until"] != nil
    }

    @Test func aNewHireAndANewMemberReceiveACurrentAnnouncement() async throws {
        let hub = try await TestHub.start()
        let boss = try await hub.connect("boss", roles: ["leader"])
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "drift")])
        let until = Int64(WallClock.nowMillis()) + 3_600_000
        let everyone = try await boss.ok(
            "announce",
            [
                ("title", "Strømstans fredag 07–09"), ("body", "Lagre arbeidet ditt."), ("audience", ["all": true]),
                ("require_ack", true), ("until", .int(until)),
            ])
        let everyoneID = try #require(everyone.at("announcement", "id")?.stringValue)
        #expect(everyone.at("announcement", "until") == .int(until))
        #expect(everyone.at("announcement", "audience_count") == .int(1))
        let toDrift = try await boss.ok(
            "announce",
            [("title", "Vakt i helgen"), ("body", "Se listen."), ("audience", ["channels": ["drift"]]), ("until", .int(until))])
        let driftID = try #require(toDrift.at("announcement", "id")?.stringValue)

        // Signs in for the first time after it went out.
        let newHire = try await hub.connect("nyansatt")
        #expect(try await receives(everyoneID, newHire))
        // Joins the channel it went to.
        try await newHire.ok("join", [("channel", "drift")])
        let late = try await newHire.next { $0["type"] == "announcement" && $0["id"] == .string(driftID) }
        #expect(late["title"] == "Vakt i helgen")
        // They count in its figures, and acknowledging works as for anyone.
        try await newHire.ok("ack", [("announcement_id", .string(everyoneID)), ("kind", "ack")])
        let token = try await TestHub.token("boss", roles: ["leader"])
        let stats = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/announcements/\(everyoneID)", token: token)
        #expect(stats.json.at("stats", "audience") == .int(2))
        #expect(stats.json.at("stats", "acked") == .int(1))
        await hub.stop()
    }

    @Test(arguments: ["long ago", "a minute ago", "in 367 days"])
    func anUntilInThePastOrTooFarAheadIsRefused(_ when: String) async throws {
        let hub = try await TestHub.start()
        let boss = try await hub.connect("boss", roles: ["leader"])
        let now = Int64(WallClock.nowMillis())
        let until: Int64 =
            switch when {
            case "long ago": 1_000
            case "a minute ago": now - 60_000
            default: now + 367 * 86_400_000
            }
        let refused = try await boss.request(
            "announce", [("title", "T"), ("body", "B"), ("audience", ["all": true]), ("until", .int(until))])
        #expect(refused["ok"] == .bool(false))
        #expect(refused.at("error", "code") == "bad_request")
        // The connection stays usable.
        try await boss.ok("join", [("channel", "general")])
        await hub.stop()
    }
}
