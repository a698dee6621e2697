import DugnadOIDC
import Foundation
import JWTKit

/// A provider's signing side made in the test: an ES256 key with a `kid`, its JWKS, and
/// ID tokens signed with it (the claims as each test wants them).
struct TestProvider {
    static let issuer = "https://login.example.test/realms/staff"
    static let clientID = "dugnad"

    let kid: String
    let privateKey = ES256PrivateKey()
    let signing = JWTKeyCollection()

    init(kid: String = "key-1") async {
        self.kid = kid
        await signing.add(ecdsa: privateKey, kid: JWKIdentifier(string: kid))
    }

    /// `{"keys":[...]}` with this provider's public key.
    var jwks: [UInt8] {
        let (x, y) = privateKey.publicKey.parameters!
        return Array(
            #"{"keys":[{"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":"\#(kid)","x":"\#(x)","y":"\#(y)"}]}"#.utf8)
    }

    func keys() async throws -> ProviderKeys { try await ProviderKeys.parse(jwks: jwks) }

    func idToken(_ claims: TestIDClaims, kid: String? = nil) async throws -> String {
        try await signing.sign(claims, kid: JWKIdentifier(string: kid ?? self.kid))
    }
}

/// ID token claims as a provider would send them.
struct TestIDClaims: JWTPayload {
    var iss: String? = TestProvider.issuer
    var sub: String? = "u-123"
    var aud: [String]? = [TestProvider.clientID]
    var exp: Double? = Date().timeIntervalSince1970 + 300
    var nonce: String? = "the-nonce"
    var azp: String?
    var name: String? = "Kari Nordmann"
    var groups: [String]? = ["staff", "board-members"]

    func verify(using algorithm: some JWTAlgorithm) throws {}
}
