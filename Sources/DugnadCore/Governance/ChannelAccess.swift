import DugnadProtocol

/// Who may read and who may join a channel (contract §7 and §9): the rules alone, without
/// storage or sockets, so that every path (WebSocket, HTTP, a refresh, an admin's change)
/// decides the same way, and so that they are tested on their own.
///
/// - Public and announce channels: every person may join; a member reads.
/// - Private channels: readable and joinable by members an admin granted, by users whose
///   current token lists the channel in its `channels` claim, and by admins. A membership
///   made through a claim gives nothing once the token no longer lists the channel.
/// - Direct channels: their people (granted when the channel was made) and nobody else; no
///   claim reaches one, no key, and admins only where the deployment allows it
///   (`adminsReadDirect`, `--admins-read-direct`), by joining as a visible member.
/// - Bots: their key's scopes and the private channels the key was made for.
public enum ChannelAccess {
    /// Whether a member (of the given kind) may read the channel with the credentials it
    /// holds now.
    public static func memberMayRead(
        _ channel: ChannelRecord, membership: MembershipKind, principal: Principal, adminsReadDirect: Bool = false
    ) -> Bool {
        if channel.kind == .direct {
            return membership == .granted || adminMayEnterDirect(principal, adminsReadDirect: adminsReadDirect)
        }
        guard channel.kind == .private else { return true }
        return membership == .granted || principal.isAdmin || principal.channels.contains(channel.name)
    }

    /// Whether the principal may join (become a member of) the channel; `membership` is
    /// how it is a member already, if it is.
    public static func mayJoin(
        _ channel: ChannelRecord, membership: MembershipKind?, principal: Principal, adminsReadDirect: Bool = false
    ) -> Bool {
        if channel.kind == .direct {
            return membership == .granted || adminMayEnterDirect(principal, adminsReadDirect: adminsReadDirect)
        }
        if case .bot(_, _, let keyChannels) = principal.kind {
            guard principal.isAdmin || principal.hasScope("read") else { return false }
            return channel.kind != .private || keyChannels.contains(channel.name) || principal.isAdmin
        }
        guard channel.kind == .private else { return true }
        return membership == .granted || principal.isAdmin || principal.channels.contains(channel.name)
    }

    /// Whether a listing of channels shows the channel to the principal: public and
    /// announce channels to everyone; a private one to admins, to keys made for it, and to
    /// people whose membership gives access now (`memberMayRead`). With `claimsCount`
    /// (`GET /api/v1/channels`, as it always was), also to people whose token lists it
    /// without their having joined; the `channels` command lists only memberships, so a
    /// non-member never finds a private channel there.
    public static func isListed(
        _ channel: ChannelRecord, membership: MembershipKind?, principal: Principal, claimsCount: Bool = false,
        adminsReadDirect: Bool = false
    ) -> Bool {
        if channel.kind == .direct {
            return membership == .granted || adminMayEnterDirect(principal, adminsReadDirect: adminsReadDirect)
        }
        if principal.isAdmin || channel.kind != .private { return true }
        if principal.isBot { return botMay(.read, channel, principal: principal) }
        guard let membership else { return claimsCount && principal.channels.contains(channel.name) }
        return memberMayRead(channel, membership: membership, principal: principal)
    }

    /// Whether `search` reads the channel's messages for the principal: what a `join`
    /// would let it read. Every public and announce channel (any person may join one and
    /// read its whole history); a private one only while the membership gives access now
    /// (`memberMayRead`: a non-member, or a member an admin removed, finds nothing there;
    /// a token's claim without a join is not enough); admins every channel; a key what it
    /// reaches with `read`; a direct channel its members only (admins where the deployment
    /// lets them in). Each kind is named, so that a new kind must be decided here.
    public static func maySearch(
        _ channel: ChannelRecord, membership: MembershipKind?, principal: Principal, adminsReadDirect: Bool
    ) -> Bool {
        if principal.isBot { return botMay(.read, channel, principal: principal) }
        switch channel.kind {
        case .public, .announce:
            return true
        case .direct:
            return membership == .granted || adminMayEnterDirect(principal, adminsReadDirect: adminsReadDirect)
        case .private:
            guard let membership else { return principal.isAdmin }
            return memberMayRead(channel, membership: membership, principal: principal)
        }
    }

    /// What a bot may do with a channel it reaches: read needs the `read` scope, posting
    /// `publish` (an `admin` key may do both).
    public enum Intent: Sendable {
        case read
        case post
    }

    /// Whether a bot's key reaches the channel for `intent`.
    public static func botMay(_ intent: Intent, _ channel: ChannelRecord, principal: Principal) -> Bool {
        guard case .bot(_, _, let keyChannels) = principal.kind, channel.kind != .direct else { return false }
        let scope = intent == .read ? "read" : "publish"
        guard principal.isAdmin || principal.hasScope(scope) else { return false }
        return channel.kind != .private || keyChannels.contains(channel.name) || principal.isAdmin
    }

    /// An admin (a person: keys never reach a direct channel) where the deployment lets
    /// admins into direct channels.
    static func adminMayEnterDirect(_ principal: Principal, adminsReadDirect: Bool) -> Bool {
        adminsReadDirect && principal.isAdmin && !principal.isBot
    }

    // MARK: One answer for "missing" and "not yours"

    /// A person who may not read the channel, whether or not it exists.
    public static func notReadable(_ name: String) -> ProtocolError {
        .forbidden("you are not a member of '\(name)'; join it first")
    }

    /// A person who may not join the channel, whether or not it exists (and it will not be
    /// created for them).
    public static func notJoinable(_ name: String) -> ProtocolError {
        .forbidden("you may not join '\(name)'")
    }

    /// A key that does not reach the channel, whether or not it exists.
    public static func notReached(_ name: String) -> ProtocolError {
        .forbidden("this key does not reach '\(name)'")
    }
}
