/// The three kinds of channel of the wire contract (section 7).
public enum ChannelKind: String, Sendable, Codable, CaseIterable {
    /// Any authenticated user may join and post.
    case `public`
    /// Only users whose token lists the channel, or whom an admin added, may join.
    case `private`
    /// Everyone may join and read; only leaders, admins and bots may post.
    case announce
}

/// Roles a token can carry. Unknown role strings are ignored, not rejected, so an
/// identity provider may add its own.
public enum Role: String, Sendable, Codable, CaseIterable {
    case member
    case leader
    case admin
}
