import DugnadProtocol
import NIOCore
import NIOPosix

/// Turns a bearer credential into a `Principal`: a JWT for people, or a `dgn_` API key for
/// bots (looked up by its hash; a revoked key is `key_revoked`).
///
/// A person's standing in the directory is read at every authentication (one indexed
/// read): a banned user is refused (`banned`: close 4500, HTTP 403), and the roles an
/// admin gave in the directory are added to the token's. A WebSocket connection reads it
/// with the rest of its session's opening instead (`Session.open`, one read for all).
///
/// Nothing here blocks an event loop or Swift's cooperative pool: a JWT is checked in a
/// task (CPU only: jwt-kit's keys are an actor), and a key lookup, which reads storage
/// (and on PostgreSQL waits for the server), runs on the hub's read pool. A lookup that
/// fails because storage is unavailable is `storage_unavailable` (HTTP 503, close 1011),
/// never `invalid_token`: the credential may be fine, and the client should retry.
public final class Authenticator: Sendable {
    public let verifier: TokenVerifier
    private let store: (any Store)?
    private let readPool: NIOThreadPool?

    /// Without a store, API keys are refused (`invalid_token`). `readPool` runs the key
    /// lookups (the hub's, see `Hub.makeAuthenticator`).
    public init(verifier: TokenVerifier, store: (any Store)? = nil, readPool: NIOThreadPool? = nil) {
        self.verifier = verifier
        self.store = store
        self.readPool = readPool
    }

    /// Checks `token`; the future completes on `loop` and never fails (a refusal is a
    /// `.failure` result). With `readsStanding` false, a person's standing is left to the
    /// caller, who must apply it (`applying(_:to:)`) before trusting the principal.
    public func authenticate(
        _ token: String, on loop: any EventLoop, now: Int64 = WallClock.nowMillis(), readsStanding: Bool = true
    ) -> EventLoopFuture<Result<Principal, AuthFailure>> {
        if token.isEmpty { return loop.makeSucceededFuture(.failure(.missingToken)) }
        if APIKeys.isAPIKey(token) {
            guard let store, let readPool, token.utf8.count <= 128 else {
                return loop.makeSucceededFuture(.failure(.invalidToken))
            }
            let hash = APIKeys.hash(token)
            return readPool.runIfActive(eventLoop: loop) { try store.apiKey(hash: hash) }
                .map { record -> Result<Principal, AuthFailure> in
                    guard let record else { return .failure(.invalidToken) }
                    if record.revokedAt != nil { return .failure(.keyRevoked) }
                    return .success(APIKeys.principal(for: record))
                }
                .recover { _ in .failure(.storageUnavailable) }
        }
        let verifier = self.verifier
        let promise = loop.makePromise(of: Result<Principal, AuthFailure>.self)
        promise.completeWithTask { await verifier.verify(token, now: now) }
        guard readsStanding, let store, let readPool else { return promise.futureResult }
        return promise.futureResult.flatMap { verified in
            guard case .success(let principal) = verified else { return loop.makeSucceededFuture(verified) }
            let userID = principal.userID
            return readPool.runIfActive(eventLoop: loop) { try store.standing(userID: userID) }
                .map { standing in Self.applying(standing, to: principal) }
                .recover { _ in .failure(.storageUnavailable) }
        }
    }

    /// A person's principal as the directory has it now: refused when banned, else with the
    /// roles an admin gave added to the token's.
    public static func applying(_ standing: UserStanding, to principal: Principal) -> Result<Principal, AuthFailure> {
        if standing.ban != nil { return .failure(.banned) }
        var principal = principal
        principal.roles.formUnion(standing.directoryRoles.compactMap(Role.init(rawValue:)))
        return .success(principal)
    }
}
