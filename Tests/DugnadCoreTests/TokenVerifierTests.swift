import DugnadTokens
import CryptoExtras
import DugnadProtocol
import Foundation
import JWTKit
import Testing

@testable import DugnadCore

/// `TokenVerifier` against tokens signed here with arbitrary claims: each refusal gets the
/// close reason the contract (section 2) names, and a good token becomes the right principal.
@Suite struct TokenVerifierTests {
    private static let secret = Array("verifier-test-secret-0123456789abcdef".utf8)
    /// The verification time, ms since the epoch; tokens are built relative to it.
    private static let nowMs: Int64 = 1_764_411_223_000
    private static let issuer = "https://idp.example.no"
    private static var nowSeconds: Double { Double(nowMs / 1000) }

    /// Claims with every field optional and freely settable, so tokens the hub never
    /// issues (no `sub`, no `exp`, odd roles, audiences) can be built.
    private struct TestClaims: JWTPayload {
        var sub: String?
        var name: String?
        var roles: [String]?
        var channels: [String]?
        var exp: Double?
        var iat: Double?
        var nbf: Double?
        var iss: String?
        var aud: AudienceClaim?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A claim set of the wrong shape: `roles` as a string instead of an array.
    private struct MistypedRolesClaims: JWTPayload {
        var sub: String
        var exp: Double
        var roles: String

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    private static func claims(
        sub: String? = "u42", name: String? = "Kari", roles: [String]? = nil, channels: [String]? = nil,
        expiresIn: Double? = 3_600, nbf: Double? = nil, iss: String? = nil, aud: [String]? = nil
    ) -> TestClaims {
        TestClaims(
            sub: sub, name: name, roles: roles, channels: channels, exp: expiresIn.map { nowSeconds + $0 },
            iat: nowSeconds, nbf: nbf, iss: iss, aud: aud.map { AudienceClaim(value: $0) })
    }

    private static func signHS256(_ payload: some JWTPayload, secret: [UInt8] = secret) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(payload)
    }

    private static func verifier(_ configure: (inout TokenVerifier.Configuration) -> Void = { _ in }) async throws
        -> TokenVerifier
    {
        var configuration = TokenVerifier.Configuration(algorithm: .hs256, secret: secret)
        configure(&configuration)
        return try await TokenVerifier(configuration: configuration)
    }

    /// Verifies with the default HS256 verifier at `nowMs`.
    private static func verify(_ token: String) async throws -> Result<Principal, AuthFailure> {
        try await verifier().verify(token, now: nowMs)
    }

    private static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    // MARK: Valid tokens

    @Test func validTokenBecomesThePrincipalItNames() async throws {
        let token = try await Self.signHS256(Self.claims(roles: ["leader"], channels: ["staff", "board"]))
        let principal = try await Self.verify(token).get()
        #expect(principal.userID == "u42")
        #expect(principal.name == "Kari")
        #expect(principal.roles == [.leader])
        #expect(principal.channels == ["staff", "board"])
        #expect(principal.expiresAt == Self.nowMs + 3_600_000)
        #expect(principal.kind == .user)
    }

    @Test func rolesDefaultToMember() async throws {
        let token = try await Self.signHS256(Self.claims(roles: nil))
        #expect(try await Self.verify(token).get().roles == [.member])
    }

    @Test func unknownRolesAreIgnored() async throws {
        let token = try await Self.signHS256(Self.claims(roles: ["wizard", "admin", "ADMIN"]))
        #expect(try await Self.verify(token).get().roles == [.admin])
    }

    @Test func onlyUnknownRolesFallBackToMember() async throws {
        let token = try await Self.signHS256(Self.claims(roles: ["wizard"]))
        #expect(try await Self.verify(token).get().roles == [.member])
    }

    @Test func nameDefaultsToSub() async throws {
        let unnamed = try await Self.signHS256(Self.claims(name: nil))
        #expect(try await Self.verify(unnamed).get().name == "u42")
        let emptyName = try await Self.signHS256(Self.claims(name: ""))
        #expect(try await Self.verify(emptyName).get().name == "u42")
    }

    @Test func overlongNameIsCutTo200Characters() async throws {
        let token = try await Self.signHS256(Self.claims(name: String(repeating: "n", count: 500)))
        #expect(try await Self.verify(token).get().name == String(repeating: "n", count: 200))
    }

    @Test func tokenFromTheHubsOwnSignerVerifies() async throws {
        let token = try await TokenSigner.sign(
            secret: Self.secret, sub: "u7", name: "Ola", roles: ["admin"], channels: ["ops"], ttlSeconds: 60,
            now: Date(timeIntervalSince1970: Self.nowSeconds))
        let principal = try await Self.verify(token).get()
        #expect(principal.userID == "u7")
        #expect(principal.roles == [.admin])
        #expect(principal.channels == ["ops"])
        #expect(principal.expiresAt == Self.nowMs + 60_000)
    }

    // MARK: Signatures and algorithms

    @Test func tokenSignedWithAnotherSecretIsBadSignature() async throws {
        let token = try await Self.signHS256(
            Self.claims(), secret: Array("another-secret-that-is-long-enough-0123".utf8))
        #expect(try await Self.verify(token) == .failure(.badSignature))
    }

    @Test func tamperedPayloadIsBadSignature() async throws {
        let token = try await Self.signHS256(Self.claims(roles: ["member"]))
        let parts = token.split(separator: ".").map(String.init)
        let forged = Self.base64URL(#"{"sub":"u42","roles":["admin"],"exp":\#(Self.nowSeconds + 3_600)}"#)
        #expect(try await Self.verify([parts[0], forged, parts[2]].joined(separator: ".")) == .failure(.badSignature))
    }

    @Test func algNoneIsInvalidToken() async throws {
        let header = Self.base64URL(#"{"alg":"none","typ":"JWT"}"#)
        let payload = Self.base64URL(#"{"sub":"u42","exp":\#(Self.nowSeconds + 3_600)}"#)
        #expect(try await Self.verify("\(header).\(payload).") == .failure(.invalidToken))
    }

    @Test(arguments: ["", "abc", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.e30.sig"])
    func malformedTokenIsInvalidToken(_ token: String) async throws {
        #expect(try await Self.verify(token) == .failure(.invalidToken))
    }

    @Test func mistypedClaimIsInvalidToken() async throws {
        let token = try await Self.signHS256(
            MistypedRolesClaims(sub: "u42", exp: Self.nowSeconds + 3_600, roles: "admin"))
        #expect(try await Self.verify(token) == .failure(.invalidToken))
    }

    @Test func hsTokenSignedWithThePublicKeyIsRefusedByAnRS256Verifier() async throws {
        let privateKey = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let publicPEM = privateKey.publicKey.pemRepresentation
        let verifier = try await TokenVerifier(
            configuration: .init(algorithm: .rs256, publicKeyPEM: publicPEM, issuer: Self.issuer, audience: "dugnad"))

        // The key-confusion attack: HMAC keyed with the public key the server holds.
        let confused = try await Self.signHS256(Self.claims(roles: ["admin"]), secret: Array(publicPEM.utf8))
        #expect(await verifier.verify(confused, now: Self.nowMs) == .failure(.invalidToken))

        // The same verifier accepts a genuine RS256 token, so the refusal is about the algorithm.
        let keys = JWTKeyCollection()
        await keys.add(rsa: privateKey, digestAlgorithm: .sha256)
        let genuine = try await keys.sign(Self.claims(iss: Self.issuer, aud: ["dugnad"]))
        #expect(try await verifier.verify(genuine, now: Self.nowMs).get().userID == "u42")
        // Signed by the same provider for another application: refused.
        let otherApp = try await keys.sign(Self.claims(iss: Self.issuer, aud: ["payroll"]))
        #expect(await verifier.verify(otherApp, now: Self.nowMs) == .failure(.invalidToken))
    }

    @Test func rs256TokenIsRefusedByAnHS256Verifier() async throws {
        let privateKey = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let keys = JWTKeyCollection()
        await keys.add(rsa: privateKey, digestAlgorithm: .sha256)
        let token = try await keys.sign(Self.claims())
        #expect(try await Self.verify(token) == .failure(.invalidToken))
    }

    @Test func es256VerifierAcceptsATokenFromTheMatchingKey() async throws {
        let privateKey = ES256PrivateKey()
        let verifier = try await TokenVerifier(
            configuration: .init(
                algorithm: .es256, publicKeyPEM: privateKey.publicKey.pemRepresentation, issuer: Self.issuer,
                audience: "dugnad"))
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: privateKey)
        let token = try await keys.sign(Self.claims(iss: Self.issuer, aud: ["dugnad"]))
        #expect(try await verifier.verify(token, now: Self.nowMs).get().userID == "u42")

        let otherKeys = JWTKeyCollection()
        await otherKeys.add(ecdsa: ES256PrivateKey())
        let forged = try await otherKeys.sign(Self.claims(iss: Self.issuer, aud: ["dugnad"]))
        #expect(await verifier.verify(forged, now: Self.nowMs) == .failure(.badSignature))
    }

    // MARK: Time

    @Test func expiredTokenIsTokenExpired() async throws {
        let token = try await Self.signHS256(Self.claims(expiresIn: -1))
        #expect(try await Self.verify(token) == .failure(.tokenExpired))
    }

    @Test func tokenExpiresAtItsExpInstant() async throws {
        let token = try await Self.signHS256(Self.claims(expiresIn: 0))
        let verifier = try await Self.verifier()
        #expect(await verifier.verify(token, now: Self.nowMs - 1).map(\.userID) == .success("u42"))
        #expect(await verifier.verify(token, now: Self.nowMs) == .failure(.tokenExpired))
    }

    @Test func notBeforeInTheFutureIsTokenNotYetValid() async throws {
        let token = try await Self.signHS256(Self.claims(nbf: Self.nowSeconds + 60))
        #expect(try await Self.verify(token) == .failure(.tokenNotYetValid))
    }

    @Test func notBeforeReachedIsAccepted() async throws {
        let token = try await Self.signHS256(Self.claims(nbf: Self.nowSeconds))
        #expect(try await Self.verify(token).map(\.userID) == .success("u42"))
    }

    @Test func tokenWithoutExpIsInvalidToken() async throws {
        let token = try await Self.signHS256(Self.claims(expiresIn: nil))
        #expect(try await Self.verify(token) == .failure(.invalidToken))
    }

    @Test func tokenWithoutExpIsAcceptedWhenTheDeploymentAllowsIt() async throws {
        let token = try await Self.signHS256(Self.claims(expiresIn: nil))
        let verifier = try await Self.verifier { $0.allowNoExpiry = true }
        let principal = try await verifier.verify(token, now: Self.nowMs).get()
        #expect(principal.userID == "u42")
        #expect(principal.expiresAt == nil)
    }

    // MARK: Subject, issuer, audience

    @Test func tokenWithoutSubIsInvalidToken() async throws {
        let token = try await Self.signHS256(Self.claims(sub: nil))
        #expect(try await Self.verify(token) == .failure(.invalidToken))
    }

    @Test func emptyOrOverlongSubIsInvalidToken() async throws {
        let empty = try await Self.signHS256(Self.claims(sub: ""))
        #expect(try await Self.verify(empty) == .failure(.invalidToken))
        let long = try await Self.signHS256(Self.claims(sub: String(repeating: "u", count: 129)))
        #expect(try await Self.verify(long) == .failure(.invalidToken))
    }

    @Test func configuredIssuerMustMatch() async throws {
        let verifier = try await Self.verifier { $0.issuer = "https://id.example.org" }
        let right = try await Self.signHS256(Self.claims(iss: "https://id.example.org"))
        let wrong = try await Self.signHS256(Self.claims(iss: "https://evil.example.org"))
        let missing = try await Self.signHS256(Self.claims(iss: nil))
        #expect(await verifier.verify(right, now: Self.nowMs).map(\.userID) == .success("u42"))
        #expect(await verifier.verify(wrong, now: Self.nowMs) == .failure(.invalidToken))
        #expect(await verifier.verify(missing, now: Self.nowMs) == .failure(.invalidToken))
    }

    @Test func configuredAudienceMustBeAmongTheTokens() async throws {
        let verifier = try await Self.verifier { $0.audience = "dugnad" }
        let single = try await Self.signHS256(Self.claims(aud: ["dugnad"]))
        let several = try await Self.signHS256(Self.claims(aud: ["crm", "dugnad"]))
        let wrong = try await Self.signHS256(Self.claims(aud: ["crm"]))
        let missing = try await Self.signHS256(Self.claims(aud: nil))
        #expect(await verifier.verify(single, now: Self.nowMs).map(\.userID) == .success("u42"))
        #expect(await verifier.verify(several, now: Self.nowMs).map(\.userID) == .success("u42"))
        #expect(await verifier.verify(wrong, now: Self.nowMs) == .failure(.invalidToken))
        #expect(await verifier.verify(missing, now: Self.nowMs) == .failure(.invalidToken))
    }

    @Test func issuerAndAudienceAreIgnoredWhenNotConfigured() async throws {
        let token = try await Self.signHS256(Self.claims(iss: "anyone", aud: ["anything"]))
        #expect(try await Self.verify(token).map(\.userID) == .success("u42"))
    }

    // MARK: Configuration

    @Test func secretShorterThan32BytesIsRefusedAtInit() async throws {
        await #expect(throws: ConfigurationError.self) {
            _ = try await TokenVerifier(configuration: .init(algorithm: .hs256, secret: Array(repeating: 7, count: 31)))
        }
        await #expect(throws: ConfigurationError.self) {
            _ = try await TokenVerifier(configuration: .init(algorithm: .hs256, secret: nil))
        }
        _ = try await TokenVerifier(configuration: .init(algorithm: .hs256, secret: Array(repeating: 7, count: 32)))
    }

    @Test func signingWithAShortSecretIsRefused() async throws {
        await #expect(throws: TokenSigner.ShortSecret.self) {
            _ = try await TokenSigner.sign(
                secret: Array(repeating: 7, count: 31), sub: "u1", name: nil, roles: [], channels: [], ttlSeconds: 60)
        }
    }

    @Test func publicKeyAlgorithmsRefuseToStartWithoutAnIssuerAndAnAudience() async throws {
        let pem = ES256PrivateKey().publicKey.pemRepresentation
        for (issuer, audience) in [(nil, nil), (Self.issuer, nil), (nil, "dugnad"), ("", "dugnad")] as [(String?, String?)] {
            await #expect(throws: ConfigurationError.self) {
                _ = try await TokenVerifier(
                    configuration: .init(algorithm: .es256, publicKeyPEM: pem, issuer: issuer, audience: audience))
            }
        }
        _ = try await TokenVerifier(
            configuration: .init(algorithm: .es256, publicKeyPEM: pem, issuer: Self.issuer, audience: "dugnad"))
    }

    @Test func timesFarInTheFutureNeverCrash() async throws {
        // exp a billion billion years away: a valid, very long-lived token, not a trap.
        let far = try await Self.signHS256(Self.claims(expiresIn: 1e300))
        #expect(try await Self.verify(far).get().userID == "u42")
        let huge = try await Self.signHS256(Self.claims(expiresIn: 9.3e15))
        #expect(try await Self.verify(huge).get().userID == "u42")
        let notYet = try await Self.signHS256(Self.claims(nbf: 1e300))
        #expect(try await Self.verify(notYet) == .failure(.tokenNotYetValid))
        let longAgo = try await Self.signHS256(Self.claims(expiresIn: -1e300))
        #expect(try await Self.verify(longAgo) == .failure(.tokenExpired))
    }

    @Test func aPersonCannotTakeTheFormOfABotsID() async throws {
        let token = try await Self.signHS256(Self.claims(sub: "bot:k_0123456789ab"))
        #expect(try await Self.verify(token) == .failure(.invalidToken))
    }

    @Test func nulInTheIdOrTheNameIsRefused() async throws {
        for claims in [Self.claims(sub: "alice\u{0}x"), Self.claims(name: "Alice\u{0}Admin")] {
            let token = try await Self.signHS256(claims)
            #expect(try await Self.verify(token) == .failure(.invalidToken))
        }
    }

    @Test func publicKeyAlgorithmsWithoutAKeyAreRefusedAtInit() async throws {
        await #expect(throws: ConfigurationError.self) {
            _ = try await TokenVerifier(configuration: .init(algorithm: .rs256, issuer: Self.issuer, audience: "dugnad"))
        }
        await #expect(throws: ConfigurationError.self) {
            _ = try await TokenVerifier(configuration: .init(algorithm: .es256, issuer: Self.issuer, audience: "dugnad"))
        }
    }
}
