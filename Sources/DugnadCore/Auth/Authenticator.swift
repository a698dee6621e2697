import DugnadProtocol

/// Turns a bearer credential into a `Principal`: a JWT for people, or (when a key store is
/// configured) a `dgn_` API key for bots.
public final class Authenticator: Sendable {
    public let verifier: TokenVerifier

    public init(verifier: TokenVerifier) {
        self.verifier = verifier
    }

    public func authenticate(_ token: String, now: Int64 = Clock.nowMillis()) async -> Result<Principal, AuthFailure> {
        if token.isEmpty { return .failure(.missingToken) }
        return await verifier.verify(token, now: now)
    }
}
