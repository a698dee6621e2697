import DugnadCore
import DugnadProtocol
import Testing

/// A socket's opening reads the person's standing together with the memberships and the
/// pending announcements (`Store.sessionOpening`: one read instead of two at the morning
/// rush). What the standing decides must hold as when it was read at authentication.
@Suite struct SessionOpeningTests {
    @Test func aRoleGivenInTheDirectoryIsInTheWelcomeWhicheverWayTheTokenCame() async throws {
        let hub = try await TestHub.start()
        try expectWritten(
            hub, [.importUsers([UserRecord(id: "kari", name: "Kari", roles: ["leader"], lastSeen: nil)])])
        let byQuery = try await hub.connect("kari")
        #expect(byQuery.welcome.at("user", "roles") == .array([.string("member"), .string("leader")]))
        let byFrame = try await hub.rawConnect()
        try await byFrame.send("auth", [("token", .string(try await TestHub.token("kari")))])
        let welcome = try await byFrame.next(type: "welcome")
        #expect(welcome.at("user", "roles") == .array([.string("member"), .string("leader")]))
        // The role counts for what the session does, not only for what it shows: announcing
        // is for leaders, and someone the directory does not make one is refused.
        try await byQuery.ok("announce", [("title", "Kake"), ("body", "På kjøkkenet"), ("audience", ["all": true])])
        let ola = try await hub.connect("ola")
        let refused = try await ola.request(
            "announce", [("title", "Kake"), ("body", "På kjøkkenet"), ("audience", ["all": true])])
        #expect(refused.at("error", "code") == "forbidden")
        await hub.stop()
    }

    @Test func aBannedPersonIsRefusedAtTheOpeningAndNothingOfTheSocketIsRecorded() async throws {
        let hub = try await TestHub.start()
        try expectWritten(
            hub, [.ban(BanRecord(userID: "troll", bannedAt: 1, bannedBy: "boss", reason: "spam"))])
        for viaFrame in [false, true] {
            let token = try await TestHub.token("troll")
            let socket = try await hub.rawConnect(path: viaFrame ? "/ws" : "/ws?token=\(token)")
            if viaFrame { try await socket.send("auth", [("token", .string(token))]) }
            let closed = try await socket.closed(timeout: .seconds(30))
            #expect(closed.code == 4500)
            #expect(closed.reason == "banned")
        }
        // Its connection slot was given back, and no user or session was written for it.
        try await hub.waitForConnections(0)
        #expect(!hub.app.hub.isOnline("troll"))
        #expect(try hub.app.hub.store.user(id: "troll") == nil)
        try expectWritten(hub, [.unban(userID: "troll")])
        let back = try await hub.connect("troll")
        #expect(back.welcome.at("user", "id") == "troll")
        await hub.stop()
    }

    private func expectWritten(_ hub: TestHub, _ ops: [WriteOp]) throws {
        for result in try hub.app.hub.store.write(ops) {
            if case .failure(let error) = result { Issue.record("a setup write failed: \(error)") }
        }
    }
}
