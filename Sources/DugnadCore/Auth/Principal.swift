import DugnadProtocol

/// Who is on the other end of a connection or request, after authentication.
public struct Principal: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A person, authenticated by a JWT.
        case user
        /// A bot or integration, authenticated by an API key with scopes.
        case bot(keyID: String, scopes: Set<String>, channels: Set<String>)
    }

    public var userID: String
    public var name: String
    public var roles: Set<Role>
    /// Private channels the token grants access to (not membership by itself).
    public var channels: Set<String>
    /// Milliseconds since the Unix epoch; nil for API keys and for tokens without expiry
    /// where the deployment allows them.
    public var expiresAt: Int64?
    public var kind: Kind

    public init(
        userID: String, name: String, roles: Set<Role>, channels: Set<String>, expiresAt: Int64?, kind: Kind = .user
    ) {
        self.userID = userID
        self.name = name
        self.roles = roles
        self.channels = channels
        self.expiresAt = expiresAt
        self.kind = kind
    }

    public var isAdmin: Bool { roles.contains(.admin) || hasScope("admin") }
    public var isLeader: Bool { roles.contains(.leader) || roles.contains(.admin) }
    public var isBot: Bool {
        if case .bot = kind { return true }
        return false
    }

    public func hasScope(_ scope: String) -> Bool {
        if case .bot(_, let scopes, _) = kind { return scopes.contains(scope) }
        return false
    }

    /// Role names sorted in contract order, for the welcome and the users table.
    public var roleNames: [String] {
        Role.allCases.filter { roles.contains($0) }.map(\.rawValue)
    }
}
