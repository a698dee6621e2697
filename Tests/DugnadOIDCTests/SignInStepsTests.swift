import DugnadOIDC
import DugnadProtocol
import Testing

/// PKCE, the logins waiting for their callback, the discovery document and the claims
/// mapping: the pure steps of sign-in.
@Suite struct SignInStepsTests {
    @Test func pkceS256MatchesRFC7636AppendixB() {
        #expect(
            PKCE.challenge(for: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        let verifier = PKCE.makeVerifier()
        #expect(verifier.count == 43)
        #expect(verifier.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(verifier != PKCE.makeVerifier())
    }

    @Test func aLoginIsTakenOnceAndOnlyInTime() {
        var logins = PendingLogins(limit: 10, timeoutMillis: 600_000)
        let login = logins.begin(redirectURI: "https://hub/auth/callback", now: 1_000)
        #expect(login.state != login.nonce)
        #expect(logins.take(state: "made-up", now: 2_000) == nil)
        #expect(logins.take(state: login.state, now: 2_000) == login)
        #expect(logins.take(state: login.state, now: 2_000) == nil)  // replayed callback
        let late = logins.begin(redirectURI: "https://hub/auth/callback", now: 1_000)
        #expect(logins.take(state: late.state, now: 1_000 + 600_001) == nil)
    }

    @Test func pastTheLimitTheOldestLoginGoes() {
        var logins = PendingLogins(limit: 2, timeoutMillis: 600_000)
        let first = logins.begin(redirectURI: "r", now: 0)
        let second = logins.begin(redirectURI: "r", now: 1)
        let third = logins.begin(redirectURI: "r", now: 2)
        #expect(logins.count == 2)
        #expect(logins.take(state: first.state, now: 3) == nil)
        #expect(logins.take(state: second.state, now: 3) != nil)
        #expect(logins.take(state: third.state, now: 3) != nil)
    }

    @Test func theAuthorizationURLCarriesPKCEStateAndNonce() throws {
        let configuration = OIDCConfiguration(issuer: "https://login.example.test", clientID: "dugnad hub")
        let metadata = try ProviderMetadata.parse(
            Array(discovery(issuer: "https://login.example.test").utf8), configuration: configuration)
        var logins = PendingLogins(limit: 10, timeoutMillis: 1_000)
        let login = logins.begin(redirectURI: "https://hub.example.test/auth/callback", now: 0)
        let url = metadata.authorizationURL(for: login, configuration: configuration)
        #expect(url.hasPrefix("https://login.example.test/authorize?response_type=code&client_id=dugnad%20hub&"))
        #expect(url.contains("redirect_uri=https%3A%2F%2Fhub.example.test%2Fauth%2Fcallback"))
        #expect(url.contains("scope=openid%20profile"))
        #expect(url.contains("state=\(login.state)") && url.contains("nonce=\(login.nonce)"))
        #expect(url.contains("code_challenge=\(PKCE.challenge(for: login.codeVerifier))&code_challenge_method=S256"))
        #expect(!url.contains(login.codeVerifier))
    }

    @Test func aDiscoveryDocumentOfAnotherIssuerOrWithPlainEndpointsIsRefused() {
        let configuration = OIDCConfiguration(issuer: "https://login.example.test", clientID: "c")
        #expect(throws: SignInFailure.self) {
            try ProviderMetadata.parse(Array(discovery(issuer: "https://evil.example.test").utf8), configuration: configuration)
        }
        let plain = discovery(issuer: "https://login.example.test").replacingOccurrences(
            of: "https://login.example.test/token", with: "http://login.example.test/token")
        #expect(throws: SignInFailure.self) { try ProviderMetadata.parse(Array(plain.utf8), configuration: configuration) }
        #expect(throws: SignInFailure.self) { try ProviderMetadata.parse(Array("<html>".utf8), configuration: configuration) }
    }

    @Test func plainHTTPOnlyOnLoopbackOrWhenAllowed() {
        #expect(OIDCConfiguration(issuer: "http://127.0.0.1:9000", clientID: "c").problem() == nil)
        #expect(OIDCConfiguration(issuer: "http://localhost:9000/realms/x", clientID: "c").problem() == nil)
        var remote = OIDCConfiguration(issuer: "http://login.example.test", clientID: "c")
        #expect(remote.problem() != nil)
        remote.allowInsecureHTTP = true
        #expect(remote.problem() == nil)
        #expect(OIDCConfiguration(issuer: "ftp://login.example.test", clientID: "c").problem() != nil)
        #expect(OIDCConfiguration(issuer: "https://login.example.test", clientID: "").problem() != nil)
    }

    @Test func groupsBecomeRolesAndPrivateChannels() throws {
        var mapping = ClaimsMapping()
        mapping.leaderGroups = ["leaders"]
        mapping.adminGroups = ["it"]
        mapping.channelGroups = ["board-members": ["board"], "staff": ["staff-room", "board"]]
        let kari = try mapping.identity(from: ["sub": "kari", "name": "Kari", "groups": ["leaders", "board-members"]]).get()
        #expect(kari == SignedInIdentity(userID: "kari", name: "Kari", roles: ["member", "leader"], channels: ["board"]))
        let ola = try mapping.identity(from: ["sub": "ola", "groups": "staff"]).get()
        #expect(ola == SignedInIdentity(userID: "ola", name: "ola", roles: ["member"], channels: ["board", "staff-room"]))
        let nobody = try mapping.identity(from: ["sub": "x", "groups": [1, "it"]]).get()
        #expect(nobody.roles == ["member", "admin"] && nobody.channels.isEmpty)
    }

    @Test func claimsWithoutAUsableUserAreRefused() {
        let mapping = ClaimsMapping()
        for claims: JSONValue in [["name": "No sub"], ["sub": ""], ["sub": "bot:k_1"], ["sub": 42]] {
            #expect(mapping.identity(from: claims).failureCode == "unusable_claims")
        }
        var byEmail = ClaimsMapping()
        byEmail.userIDClaim = "email"
        #expect((try? byEmail.identity(from: ["sub": "1", "email": "kari@example.test"]).get().userID) == "kari@example.test")
    }

    func discovery(issuer: String) -> String {
        #"{"issuer":"\#(issuer)","authorization_endpoint":"\#(issuer)/authorize","token_endpoint":"\#(issuer)/token","jwks_uri":"\#(issuer)/jwks"}"#
    }
}
