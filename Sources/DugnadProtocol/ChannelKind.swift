/// The three kinds of channel of the wire contract (section 7).
public enum ChannelKind: String, Sendable, Codable, CaseIterable {
    /// Any authenticated user may join and post.
    case `public`
    /// Only users whose token lists the channel, or whom an admin added, may join.
    case `private`
    /// Everyone may join and read; only leaders, admins and bots may post.
    case announce
    /// A conversation of 2 to 9 people (`direct`): its members are exactly those people,
    /// fixed when it is made; nobody else may join or read it (admins only where the
    /// deployment allows, `HubConfiguration.adminsReadDirect`). Never made by name.
    case direct

    /// The kinds an admin may create by name (`direct` channels come from `direct` only).
    public static let creatable: [ChannelKind] = [.public, .private, .announce]
}

/// Roles a token can carry. Unknown role strings are ignored, not rejected, so an
/// identity provider may add its own.
public enum Role: String, Sendable, Codable, CaseIterable {
    case member
    case leader
    case admin
}
