import DugnadTokens
import DugnadTestSupport
import DugnadCore
import DugnadProtocol
import Foundation
import JWTKit
import Testing

/// Section 2: the three ways a token travels, and every refusal reason.
@Suite struct AuthTests {
    @Test func aTokenIsAcceptedFromTheHeaderTheQueryOrAFirstFrame() async throws {
        let hub = try await TestHub.start()
        let token = try await TestHub.token("kari")
        let header = try await hub.rawConnect(headers: [("Authorization", "Bearer \(token)")])
        #expect(try await header.next(type: "welcome").at("user", "id") == "kari")
        let query = try await hub.rawConnect(path: "/ws?token=\(token)")
        #expect(try await query.next(type: "welcome").at("user", "id") == "kari")
        let frame = try await hub.rawConnect()
        try await frame.send("auth", [("token", .string(token))])
        let welcome = try await frame.next(type: "welcome")
        #expect(welcome.at("user", "roles") == .array(["member"]))
        #expect(welcome.at("server", "max_frame_bytes") == .int(65_536))
        #expect(welcome.at("server", "ping_interval") == .int(25))
        // The header wins over the query.
        let bad = "not.a.token"
        let both = try await hub.rawConnect(path: "/ws?token=\(bad)", headers: [("Authorization", "Bearer \(token)")])
        #expect(try await both.next(type: "welcome").at("user", "id") == "kari")
        await hub.stop()
    }

    @Test func everyBadTokenClosesWith4001AndItsReason() async throws {
        let hub = try await TestHub.start()
        let secret = Array(TestHub.secret.utf8)
        let good = try await TestHub.token("kari")
        let parts = good.split(separator: ".").map(String.init)
        let otherSecret = Array("another-secret-0123456789abcdef0123456789".utf8)
        let wrongKey = try await TokenSigner.sign(
            secret: otherSecret, sub: "kari", name: nil, roles: [], channels: [], ttlSeconds: 600)
        let expired = try await TokenSigner.sign(
            secret: secret, sub: "kari", name: nil, roles: [], channels: [], ttlSeconds: 60,
            now: Date().addingTimeInterval(-3600))
        let noExpiry = try await TokenSigner.sign(
            secret: secret, sub: "kari", name: nil, roles: [], channels: [], ttlSeconds: nil)
        let noneHeader = base64URL(#"{"alg":"none","typ":"JWT"}"#)
        let algNone = "\(noneHeader).\(parts[1])."
        let now = Date().timeIntervalSince1970
        let noSub = try await signRaw(RawClaims(sub: nil, exp: now + 600, nbf: nil))
        let notYet = try await signRaw(RawClaims(sub: "kari", exp: now + 6000, nbf: now + 3000))

        let cases: [(String, String)] = [
            ("garbage", "invalid_token"),
            (wrongKey, "bad_signature"),
            (expired, "token_expired"),
            (noExpiry, "invalid_token"),
            (algNone, "invalid_token"),
            (noSub, "invalid_token"),
            (notYet, "token_not_yet_valid"),
        ]
        for (token, reason) in cases {
            let client = try await hub.rawConnect(path: "/ws?token=\(token)")
            let closed = try await client.closed()
            #expect(closed.code == 4001, "\(reason)")
            #expect(closed.reason == reason)
        }
        let emptyAuth = try await hub.rawConnect()
        try await emptyAuth.send("auth")
        #expect(try await emptyAuth.closed().reason == "missing_token")
        let otherFirst = try await hub.rawConnect()
        try await otherFirst.send("join", [("channel", "general")])
        let otherClosed = try await otherFirst.closed()
        #expect(otherClosed.code == 4001)
        #expect(otherClosed.reason == "missing_token")
        await hub.stop()
    }

    @Test func aConnectionThatNeverAuthenticatesIsClosedWithAuthTimeout() async throws {
        let hub = try await TestHub.start { $0.authTimeout = 1 }
        let idle = try await hub.rawConnect()
        let closed = try await idle.closed()
        #expect(closed.code == 4001)
        #expect(closed.reason == "auth_timeout")
        await hub.stop()
    }

    @Test func aLiveConnectionIsWarnedTenSecondsBeforeExpiryAndClosedAtExp() async throws {
        let hub = try await TestHub.start()
        // The warning comes 10 s before `exp`. 60 s rather than just over 10: at the start of
        // the PostgreSQL suite connecting has taken over 12 s, and once over 30 s, so the
        // token had expired before the first tick could warn.
        let token = try await TestHub.token("kari", ttl: 60)
        let client = try await hub.rawConnect(path: "/ws?token=\(token)")
        _ = try await client.next(type: "welcome")
        // The warning is due about 50 s after the token was made, the close 10 s later:
        // longer than a client's default wait for an event.
        let warning = try await client.next(type: "error", timeout: .seconds(120))
        #expect(warning["code"] == "token_expiring")
        let closed = try await client.closed(timeout: .seconds(120))
        #expect(closed.code == 4001)
        #expect(closed.reason == "token_expired")
        await hub.stop()
    }

    @Test func refreshKeepsTheSameUserAndRefusesAnother() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        let fresh = try await TestHub.token("kari", name: "Kari N", roles: ["leader"])
        let reply = try await kari.ok("refresh", [("token", .string(fresh))])
        #expect(reply.at("user", "name") == "Kari N")
        #expect(reply.at("user", "roles") == .array(["leader"]))
        let other = try await TestHub.token("ola")
        let refused = try await kari.request("refresh", [("token", .string(other))])
        #expect(refused.at("error", "code") == "forbidden")
        let broken = try await kari.request("refresh", [("token", "broken")])
        #expect(broken.at("error", "code") == "unauthorized")
        try await kari.ok("ping")
        await hub.stop()
    }

    @Test func privateChannelsRefuseOutsidersWithForbiddenAndAdmitTheClaimed() async throws {
        let hub = try await TestHub.start()
        _ = try await hub.app.hub.createChannel(name: "board", kind: .private, title: "Board")
        let insider = try await hub.connect("kari", channels: ["board"])
        let outsider = try await hub.connect("ola")
        let refused = try await outsider.request("join", [("channel", "board")])
        #expect(refused.at("error", "code") == "forbidden")
        let history = try await outsider.request("history", [("channel", "board")])
        #expect(history.at("error", "code") == "forbidden")
        let presence = try await outsider.request("presence", [("channel", "board")])
        #expect(presence.at("error", "code") == "forbidden")
        let publish = try await outsider.request("publish", [("channel", "board"), ("body", "let me in")])
        #expect(publish.at("error", "code") == "forbidden")
        let members = try await outsider.request("members", [("channel", "board")])
        #expect(members.at("error", "code") == "forbidden")
        // A channel that does not exist answers exactly like a private one: existence leaks nothing.
        let missing = try await outsider.request("history", [("channel", "no-such-board")])
        #expect(missing.at("error", "code") == "forbidden")
        #expect(
            missing.at("error", "message")?.stringValue
                == history.at("error", "message")?.stringValue?.replacingOccurrences(of: "'board'", with: "'no-such-board'"))
        let overHTTP = try await RawHTTP.json(
            port: hub.port, "GET", "/api/v1/channels/board/messages", token: try await TestHub.token("ola"))
        #expect(overHTTP.status == 403)

        let joined = try await insider.ok("join", [("channel", "board")])
        #expect(joined.at("channel", "kind") == "private")
        try await insider.ok("publish", [("channel", "board"), ("body", "secret plans")])
        #expect(await outsider.collect(type: "message", for: .milliseconds(300)).isEmpty)
        await hub.stop()
    }

    @Test func onlyLeadersPostInAnnounceChannelsButEveryoneReads() async throws {
        let hub = try await TestHub.start()
        _ = try await hub.app.hub.createChannel(name: "all-staff", kind: .announce, title: "All staff")
        let leader = try await hub.connect("boss", roles: ["leader"])
        let member = try await hub.connect("kari")
        try await leader.ok("join", [("channel", "all-staff")])
        try await member.ok("join", [("channel", "all-staff")])
        let refused = try await member.request("publish", [("channel", "all-staff"), ("body", "hi all")])
        #expect(refused.at("error", "code") == "forbidden")
        try await leader.ok("publish", [("channel", "all-staff"), ("body", "Welcome, everyone")])
        #expect(try await member.next(type: "message")["body"] == "Welcome, everyone")
        await hub.stop()
    }

    private func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// An HS256 token over claims `dugnad token` would never make.
    private func signRaw(_ claims: RawClaims) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: TestHub.secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }
}

struct RawClaims: JWTPayload {
    var sub: String?
    var exp: Double?
    var nbf: Double?
    func verify(using algorithm: some JWTAlgorithm) throws {}
}
