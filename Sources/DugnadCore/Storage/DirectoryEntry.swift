import DugnadProtocol

/// One channel as the directory lists it, read in one statement with the figures beside it.
public struct DirectoryEntry: Sendable, Equatable {
    public var channel: ChannelRecord
    /// Members however they came to be (joined or granted).
    public var memberCount: Int
    /// The `ts` of the newest message; nil for a channel nobody has written in yet.
    public var lastActivity: Int64?
    /// How the caller is a member; nil when not at all. Whether that membership still
    /// gives access (a lapsed claim) is the hub's to decide (`ChannelAccess`).
    public var membership: MembershipKind?
    /// Mentions of the caller in the channel after its read position (0 for a non-member).
    public var unreadMentions: Int

    public init(
        channel: ChannelRecord, memberCount: Int, lastActivity: Int64?, membership: MembershipKind?,
        unreadMentions: Int = 0
    ) {
        self.channel = channel
        self.memberCount = memberCount
        self.lastActivity = lastActivity
        self.membership = membership
        self.unreadMentions = unreadMentions
    }
}

/// What a store reads for one page of the directory (the hub pages on while private
/// channels the caller may not see leave a page short).
public struct DirectoryPageRequest: Sendable, Equatable {
    /// Whose memberships fill `DirectoryEntry.membership`.
    public var userID: String
    /// A `ChannelSearchKey.fold`ed fragment that the channel's search key must contain;
    /// nil for every channel.
    public var folded: String?
    public var afterName: String?
    public var limit: Int

    public init(userID: String, folded: String?, afterName: String?, limit: Int) {
        self.userID = userID
        self.folded = folded
        self.afterName = afterName
        self.limit = limit
    }
}
