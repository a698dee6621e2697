import DequeModule
import NIOConcurrencyHelpers

/// A person signed in through the provider: what the session cookie names.
public struct SignInSession: Sendable {
    public let id: String
    public var identity: SignedInIdentity
    /// The provider's refresh token, to ask it again about the person (groups, whether the
    /// account still exists); nil when the provider gave none. Kept in memory only.
    var refreshToken: String?
    /// Milliseconds since the epoch.
    public let createdAt: Int64
    public let expiresAt: Int64
    /// When the provider last vouched for the identity (sign-in or a refresh).
    public var checkedAt: Int64
}

/// Hub sessions, in this process's memory: a restart (or another node) does not know
/// them, and the person signs in again (usually one click, the provider remembering
/// them). Bounded: past `limit` the oldest session ends. Behind a lock: requests of any
/// connection reach it from their event loops' tasks.
public final class SignInSessions: Sendable {
    private struct State {
        var byID: [String: SignInSession] = [:]
        var order: Deque<String> = []
    }

    private let state = NIOLockedValueBox(State())
    public let limit: Int

    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    public var count: Int { state.withLockedValue { $0.byID.count } }

    func create(identity: SignedInIdentity, refreshToken: String?, now: Int64, lifetimeMillis: Int64) -> SignInSession {
        let session = SignInSession(
            id: RandomText.make(bytes: 32), identity: identity, refreshToken: refreshToken, createdAt: now,
            expiresAt: now + lifetimeMillis, checkedAt: now)
        state.withLockedValue { state in
            while state.byID.count >= limit, let oldest = state.order.popFirst() { state.byID[oldest] = nil }
            // Ended sessions leave their ids in `order`; dropped here so it stays bounded too.
            while let first = state.order.first, state.byID[first] == nil { state.order.removeFirst() }
            state.byID[session.id] = session
            state.order.append(session.id)
        }
        return session
    }

    /// The live session `id` names; an expired one is ended and nil.
    func session(_ id: String, now: Int64) -> SignInSession? {
        state.withLockedValue { state in
            guard let session = state.byID[id] else { return nil }
            guard session.expiresAt > now else {
                state.byID[id] = nil
                return nil
            }
            return session
        }
    }

    /// Whether `id` names a live session (no provider is asked).
    public func isLive(_ id: String, now: Int64) -> Bool { session(id, now: now) != nil }

    /// Stores what a re-check with the provider learned, if the session still exists.
    func update(_ session: SignInSession) {
        state.withLockedValue { state in
            if state.byID[session.id] != nil { state.byID[session.id] = session }
        }
    }

    @discardableResult
    func end(_ id: String) -> SignInSession? {
        state.withLockedValue { $0.byID.removeValue(forKey: id) }
    }
}
