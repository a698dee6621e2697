import DugnadProtocol

/// Turns a bearer credential into a `Principal`: a JWT for people, or a `dgn_` API key for
/// bots (looked up by its hash; a revoked key is `key_revoked`).
public final class Authenticator: Sendable {
    public let verifier: TokenVerifier
    private let store: (any Store)?

    /// Without a store, API keys are refused (`invalid_token`).
    public init(verifier: TokenVerifier, store: (any Store)? = nil) {
        self.verifier = verifier
        self.store = store
    }

    /// May block briefly on a key lookup (one indexed SQLite read): call it from a task,
    /// never on an event loop.
    public func authenticate(_ token: String, now: Int64 = Clock.nowMillis()) async -> Result<Principal, AuthFailure> {
        if token.isEmpty { return .failure(.missingToken) }
        if APIKeys.isAPIKey(token) {
            guard let store, token.utf8.count <= 128 else { return .failure(.invalidToken) }
            guard let record = try? store.apiKey(hash: APIKeys.hash(token)) else { return .failure(.invalidToken) }
            if record.revokedAt != nil { return .failure(.keyRevoked) }
            return .success(APIKeys.principal(for: record))
        }
        return await verifier.verify(token, now: now)
    }
}
