import Foundation
import JWTKit

/// Mints HS256 tokens: for `dugnad token`, the admin sign-in link, the load generator and
/// the tests. The hub itself only verifies (DugnadCore's `TokenVerifier`); it never holds
/// a private RS/ES key. A module of its own so that the load generator can mint tokens
/// without linking the hub.
public enum TokenSigner {
    /// The minimum HS256 secret length: shorter keys are guessable, and jwt-kit asserts on them.
    public static let minimumSecretBytes = 32

    public static func sign(
        secret: [UInt8], sub: String, name: String?, roles: [String], channels: [String], ttlSeconds: Int64?,
        now: Date = Date()
    ) async throws -> String {
        guard secret.count >= minimumSecretBytes else { throw ShortSecret() }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let iat = now.timeIntervalSince1970.rounded(.down)
        let claims = TokenClaims(
            sub: sub, name: name, roles: roles.isEmpty ? nil : roles, channels: channels.isEmpty ? nil : channels,
            exp: ttlSeconds.map { iat + Double($0) }, iat: iat)
        return try await keys.sign(claims)
    }

    /// A secret shorter than `minimumSecretBytes`.
    public struct ShortSecret: Error, CustomStringConvertible, Sendable {
        public var description: String { "the JWT secret must be at least \(TokenSigner.minimumSecretBytes) bytes" }
    }
}
