import DugnadProtocol

/// What a session's opening reads (`Store.sessionOpening`), in one read: one transaction
/// on SQLite, one pooled connection on PostgreSQL. At the morning rush every connection
/// opens at once, and each separate read costs a reader's acquisition and its snapshot
/// (SQLite) or a pooled connection's checkout (PostgreSQL) besides its queries.
public struct SessionOpening: Sendable, Equatable {
    /// As `Store.standing` reads it: a person's connection is refused when banned, and the
    /// roles an admin gave are added to the token's before anything else is decided.
    public var standing: UserStanding
    /// Every membership of the user, ordered by channel name (as `Store.memberships`).
    public var memberships: [MembershipRecord]
    /// The members of each direct channel among them, by channel name, ordered by id and
    /// at most `DirectRequest.maxOthers + 1` (what a direct channel's title is made from).
    public var directMembers: [String: [UserRecord]]
    /// As `Store.pendingAnnouncements` lists them.
    public var announcements: [UserAnnouncement]

    public init(
        standing: UserStanding = UserStanding(), memberships: [MembershipRecord], directMembers: [String: [UserRecord]],
        announcements: [UserAnnouncement]
    ) {
        self.standing = standing
        self.memberships = memberships
        self.directMembers = directMembers
        self.announcements = announcements
    }

    /// How many members an opening reads of each direct channel: all of them (a direct
    /// channel has at most `DirectRequest.maxOthers` others besides its reader).
    public static var directMembersLimit: Int { DirectRequest.maxOthers + 1 }

    /// An opening from an engine's reads, which the engine runs inside its one read: the
    /// members are read of the direct channels among the memberships only.
    public static func reading(
        standing: () throws -> UserStanding, memberships: () throws -> [MembershipRecord],
        membersOf: (_ directChannel: String) throws -> [UserRecord], announcements: () throws -> [UserAnnouncement]
    ) rethrows -> SessionOpening {
        let memberships = try memberships()
        var directMembers: [String: [UserRecord]] = [:]
        for membership in memberships where membership.channel.kind == .direct {
            directMembers[membership.channel.name] = try membersOf(membership.channel.name)
        }
        return SessionOpening(
            standing: try standing(), memberships: memberships, directMembers: directMembers,
            announcements: try announcements())
    }
}
