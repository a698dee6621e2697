import DugnadOIDC
import DugnadProtocol
import Foundation
import JWTKit
import Testing

/// The checks an ID token passes before anyone is signed in: against a JWKS made in the
/// test, each refusal with its own reason.
@Suite struct IDTokenVerifierTests {
    let verifier = IDTokenVerifier(issuer: TestProvider.issuer, clientID: TestProvider.clientID)
    var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    func verify(_ claims: TestIDClaims, nonce: String? = "the-nonce") async throws -> Result<JSONValue, SignInFailure> {
        let provider = await TestProvider()
        let token = try await provider.idToken(claims)
        return await verifier.verify(token, keys: try await provider.keys(), nonce: nonce, nowMillis: now)
    }

    @Test func aGoodTokenGivesItsClaims() async throws {
        let claims = try await verify(TestIDClaims()).get()
        #expect(claims["sub"]?.stringValue == "u-123")
        #expect(claims["groups"]?.arrayValue?.count == 2)
    }

    @Test func anotherAudienceIsRefused() async throws {
        var claims = TestIDClaims()
        claims.aud = ["another-application"]
        #expect(try await verify(claims).failureCode == "bad_id_token")
    }

    @Test func severalAudiencesNeedAzpNamingThisHub() async throws {
        var claims = TestIDClaims()
        claims.aud = [TestProvider.clientID, "another-application"]
        #expect(try await verify(claims).failureCode == "bad_id_token")
        claims.azp = TestProvider.clientID
        #expect(try await verify(claims).failureCode == nil)
    }

    @Test func anotherIssuerIsRefused() async throws {
        var claims = TestIDClaims()
        claims.iss = "https://evil.example.test"
        #expect(try await verify(claims).failureCode == "bad_id_token")
    }

    @Test func anExpiredTokenIsRefusedPastTheLeeway() async throws {
        var claims = TestIDClaims()
        claims.exp = Date().timeIntervalSince1970 - 120
        #expect(try await verify(claims).failureCode == "expired_id_token")
        claims.exp = Date().timeIntervalSince1970 - 10  // within the 60 s of clock difference
        #expect(try await verify(claims).failureCode == nil)
        claims.exp = nil
        #expect(try await verify(claims).failureCode == "bad_id_token")
    }

    @Test func anotherNonceIsRefused() async throws {
        #expect(try await verify(TestIDClaims(), nonce: "another-nonce").failureCode == "bad_nonce")
        var claims = TestIDClaims()
        claims.nonce = nil
        #expect(try await verify(claims).failureCode == "bad_nonce")
        // After a refresh there is no nonce to compare (nil): the rest still counts.
        #expect(try await verify(claims, nonce: nil).failureCode == nil)
    }

    @Test func aTokenSignedByAnotherKeyWithTheSameKidIsRefused() async throws {
        let provider = await TestProvider()
        let impostor = await TestProvider(kid: provider.kid)
        let token = try await impostor.idToken(TestIDClaims())
        let result = await verifier.verify(token, keys: try await provider.keys(), nonce: "the-nonce", nowMillis: now)
        #expect(result.failureCode == "bad_id_token")
    }

    @Test func anUnknownKidAsksForTheSetAgain() async throws {
        let provider = await TestProvider()
        let rotated = await TestProvider(kid: "key-2")
        let token = try await rotated.idToken(TestIDClaims())
        #expect(verifier.lookup(token, in: try await provider.keys()) == .unknownKeyID)
        #expect(verifier.lookup(token, in: try await rotated.keys()) == .known)
    }

    @Test func hmacAndNoneAreRefusedBeforeAnyKey() async throws {
        let provider = await TestProvider()
        let hmac = JWTKeyCollection()
        await hmac.add(hmac: HMACKey(from: Array(repeating: 7, count: 32)), digestAlgorithm: .sha256, kid: "key-1")
        let hsToken = try await hmac.sign(TestIDClaims(), kid: "key-1")
        #expect(
            verifier.lookup(hsToken, in: try await provider.keys())
                == .refused(.badIDToken("the ID token's algorithm is not accepted")))
        let header = Array(#"{"alg":"none","kid":"key-1"}"#.utf8)
        let none = Data(header).base64EncodedString() + ".e30."
        #expect(
            await verifier.verify(none, keys: try await provider.keys(), nonce: nil, nowMillis: now).failureCode == "bad_id_token"
        )
        #expect(
            await verifier.verify("not a jwt", keys: try await provider.keys(), nonce: nil, nowMillis: now).failureCode
                == "bad_id_token")
    }

    @Test func aJWKSWithoutUsableKeysIsAnError() async throws {
        await #expect(throws: SignInFailure.self) { try await ProviderKeys.parse(jwks: Array(#"{"keys":[]}"#.utf8)) }
        await #expect(throws: SignInFailure.self) { try await ProviderKeys.parse(jwks: Array("{}".utf8)) }
        await #expect(throws: SignInFailure.self) {
            try await ProviderKeys.parse(jwks: Array(#"{"keys":[{"kty":"oct","kid":"k","k":"AAAA"}]}"#.utf8))
        }
    }
}

extension Result where Failure == SignInFailure {
    var failureCode: String? {
        if case .failure(let failure) = self { return failure.code }
        return nil
    }
}
