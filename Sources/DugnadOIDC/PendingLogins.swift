import DequeModule

/// One login between `/auth/login` and its callback: what the callback must match.
public struct PendingLogin: Sendable, Equatable {
    public let state: String
    public let nonce: String
    public let codeVerifier: String
    public let redirectURI: String
    /// Milliseconds since the epoch.
    public let startedAt: Int64
}

/// Logins waiting for their callback, each usable once. Bounded in number (the oldest is
/// dropped past `limit`: a flood of `/auth/login` costs memory up to it, no more) and in
/// time (`timeoutMillis`). A pure value: the service keeps it behind a lock.
public struct PendingLogins: Sendable {
    private var byState: [String: PendingLogin] = [:]
    /// States in the order they began, for dropping the oldest.
    private var order: Deque<String> = []
    public let limit: Int
    public let timeoutMillis: Int64

    public init(limit: Int, timeoutMillis: Int64) {
        self.limit = max(1, limit)
        self.timeoutMillis = timeoutMillis
    }

    public var count: Int { byState.count }

    /// A new login with fresh `state`, `nonce` and PKCE verifier.
    public mutating func begin(redirectURI: String, now: Int64) -> PendingLogin {
        let login = PendingLogin(
            state: RandomText.make(bytes: 24), nonce: RandomText.make(bytes: 24), codeVerifier: PKCE.makeVerifier(),
            redirectURI: redirectURI, startedAt: now)
        dropExpired(now: now)
        while byState.count >= limit, let oldest = order.popFirst() { byState[oldest] = nil }
        byState[login.state] = login
        order.append(login.state)
        return login
    }

    /// The login `state` names, removed so that it cannot be used twice; nil when unknown,
    /// used or older than the timeout.
    public mutating func take(state: String, now: Int64) -> PendingLogin? {
        dropExpired(now: now)
        guard let login = byState.removeValue(forKey: state) else { return nil }
        return login
    }

    private mutating func dropExpired(now: Int64) {
        while let oldest = order.first {
            guard let login = byState[oldest] else {
                order.removeFirst()
                continue
            }
            guard now - login.startedAt > timeoutMillis else { return }
            order.removeFirst()
            byState[oldest] = nil
        }
    }
}
