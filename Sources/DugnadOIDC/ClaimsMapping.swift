import DugnadProtocol

/// Which claims of the provider's ID token say who a person is, and what their groups
/// give them in Dugnad. Applied at sign-in and at every re-check with the provider, so a
/// group removed there is gone from the next session token.
public struct ClaimsMapping: Sendable, CustomStringConvertible {
    /// The claim that is the Dugnad user id. Default `sub` (stable at every provider;
    /// `preferred_username` or `email` read better but may be reassigned).
    public var userIDClaim = "sub"
    /// The claim holding the display name. Default `name`; the user id when missing.
    public var nameClaim = "name"
    /// The claim holding the person's groups (an array of strings, or one string).
    /// Default `groups` (Keycloak's and Entra ID's name for it, once configured there).
    public var groupsClaim = "groups"
    /// Groups whose members are admins.
    public var adminGroups: Set<String> = []
    /// Groups whose members are leaders.
    public var leaderGroups: Set<String> = []
    /// Group → the private channels it grants (the session token's `channels` claim).
    public var channelGroups: [String: Set<String>] = [:]

    public init() {}

    /// Who the claims name, or why they cannot sign in.
    public func identity(from claims: JSONValue) -> Result<SignedInIdentity, SignInFailure> {
        guard let userID = claims[userIDClaim]?.stringValue, !userID.isEmpty, userID.utf8.count <= Limits.maxIDBytes,
            !userID.hasPrefix("bot:"), !userID.utf8.contains(0)
        else { return .failure(.unusableClaims("the ID token has no usable '\(userIDClaim)' claim")) }
        let name = claims[nameClaim]?.stringValue.flatMap { $0.isEmpty || $0.utf8.contains(0) ? nil : String($0.prefix(200)) }
        let groups = Self.groups(claims[groupsClaim])
        var roles = ["member"]
        if !groups.isDisjoint(with: leaderGroups) { roles.append("leader") }
        if !groups.isDisjoint(with: adminGroups) { roles.append("admin") }
        let channels = groups.reduce(into: Set<String>()) { granted, group in granted.formUnion(channelGroups[group] ?? []) }
        return .success(SignedInIdentity(userID: userID, name: name ?? userID, roles: roles, channels: channels.sorted()))
    }

    static func groups(_ value: JSONValue?) -> Set<String> {
        if let single = value?.stringValue { return [single] }
        return Set((value?.arrayValue ?? []).compactMap(\.stringValue))
    }

    func problem() -> String? {
        for channel in channelGroups.values.flatMap({ $0 }) where !ChannelName.isValid(channel) {
            return "--oidc-group-channel: '\(channel)' is not a channel name"
        }
        for claim in [userIDClaim, nameClaim, groupsClaim] where claim.isEmpty { return "a claim name must not be empty" }
        return nil
    }

    public var description: String {
        "claims(user id: \(userIDClaim), name: \(nameClaim), groups: \(groupsClaim), admin groups: \(adminGroups.sorted()), "
            + "leader groups: \(leaderGroups.sorted()), channel groups: \(channelGroups.mapValues { $0.sorted() }))"
    }
}

/// A person as the provider's claims map them, what a hub session token will say.
public struct SignedInIdentity: Sendable, Equatable {
    public var userID: String
    public var name: String
    public var roles: [String]
    public var channels: [String]

    public init(userID: String, name: String, roles: [String], channels: [String]) {
        self.userID = userID
        self.name = name
        self.roles = roles
        self.channels = channels
    }
}
