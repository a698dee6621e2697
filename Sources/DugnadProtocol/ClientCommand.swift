/// A decoded, validated client request (section 5). Field limits are already checked.
public enum ClientCommand: Sendable, Equatable {
    case auth(token: String?)
    case join(JoinRequest)
    case leave(channel: String, forget: Bool)
    case markRead(channel: String, seq: Int64)
    case publish(PublishRequest)
    case history(channel: String, page: HistoryRequest)
    case presence(channel: String)
    case members(channel: String, limit: Int, afterUserID: String?)
    case typing(channel: String)
    case react(messageID: String, emoji: String, remove: Bool)
    /// Replaces the body of one's own message (within the hub's edit window).
    case edit(messageID: String, body: String)
    /// Deletes a message: its author, or an admin (moderation, audited).
    case delete(messageID: String)
    case announce(AnnounceRequest)
    case ack(announcementID: String, kind: AckKind)
    case announcementStats(announcementID: String)
    case remind(announcementID: String)
    case announcements(AnnouncementsQuery)
    case channels(DirectoryQuery)
    /// Sets (nil: removes) a channel's description: admins and the channel's creator.
    case describe(channel: String, description: String?)
    /// Messages holding the query's words, best first, from channels the caller may read.
    case search(SearchRequest)
    /// Opens (or finds) the direct channel of the caller and `users`.
    case direct(DirectRequest)
    case refresh(token: String)
    case ping

    /// The wire `type` of the command.
    public var typeName: String {
        switch self {
        case .auth: "auth"
        case .join: "join"
        case .leave: "leave"
        case .markRead: "mark_read"
        case .publish: "publish"
        case .history: "history"
        case .presence: "presence"
        case .members: "members"
        case .typing: "typing"
        case .react: "react"
        case .edit: "edit"
        case .delete: "delete"
        case .announce: "announce"
        case .ack: "ack"
        case .announcementStats: "announcement_stats"
        case .remind: "remind"
        case .announcements: "announcements"
        case .channels: "channels"
        case .describe: "describe"
        case .search: "search"
        case .direct: "direct"
        case .refresh: "refresh"
        case .ping: "ping"
        }
    }
}

public struct JoinRequest: Sendable, Equatable {
    public var channel: String
    /// Last seq the client has, for recovery after a reconnect.
    public var since: Int64?
    /// The epoch the client last saw; `since` applies only when it matches.
    public var epoch: String?
    /// Number of latest messages to return (clamped to 200).
    public var history: Int?

    public init(channel: String, since: Int64? = nil, epoch: String? = nil, history: Int? = nil) {
        self.channel = channel
        self.since = since
        self.epoch = epoch
        self.history = history
    }
}

public struct PublishRequest: Sendable, Equatable {
    public var channel: String
    public var body: String
    public var replyTo: String?
    /// The `meta` object re-encoded compactly; nil when absent or null.
    public var metaJSON: String?
    public var clientID: String?

    public init(channel: String, body: String, replyTo: String? = nil, metaJSON: String? = nil, clientID: String? = nil) {
        self.channel = channel
        self.body = body
        self.replyTo = replyTo
        self.metaJSON = metaJSON
        self.clientID = clientID
    }
}

/// `history` paging: at most one of `before` / `after`.
public struct HistoryRequest: Sendable, Equatable {
    public var before: Int64?
    public var after: Int64?
    public var limit: Int

    public init(before: Int64? = nil, after: Int64? = nil, limit: Int = Limits.defaultHistoryLimit) {
        self.before = before
        self.after = after
        self.limit = limit
    }
}

public enum Priority: String, Sendable, Equatable, CaseIterable {
    case normal, important, urgent
}

public enum AckKind: String, Sendable, Equatable {
    case read, ack
}

public enum Audience: Sendable, Equatable {
    case all
    case channels([String])
}

public struct AnnounceRequest: Sendable, Equatable {
    public var title: String
    public var body: String
    public var audience: Audience
    public var priority: Priority
    public var requireAck: Bool
    public var clientID: String?
    /// While the announcement is current (ms since the epoch): people who join its audience
    /// later (new hires; new members of its channels) receive it too and count in it.
    public var until: Int64?

    public init(
        title: String, body: String, audience: Audience, priority: Priority, requireAck: Bool, clientID: String?,
        until: Int64? = nil
    ) {
        self.title = title
        self.body = body
        self.audience = audience
        self.priority = priority
        self.requireAck = requireAck
        self.clientID = clientID
        self.until = until
    }
}

/// `announcements` (contract §9): a page of announcements, newest first. With `received`,
/// those whose audience holds the caller (each with the caller's own receipt): how a
/// client gets back what its welcome left out, or an acknowledged one after a reload.
/// Otherwise those the caller posted (`author` "me"), or, for an admin without `author`,
/// everyone's; each with its figures.
public struct AnnouncementsQuery: Sendable, Equatable {
    public var received: Bool
    /// Only "me" is accepted: nobody lists another user's announcements by name.
    public var authorIsMe: Bool
    /// An announcement id: the page holds older ones.
    public var before: String?
    public var limit: Int

    public init(received: Bool, authorIsMe: Bool, before: String?, limit: Int) {
        self.received = received
        self.authorIsMe = authorIsMe
        self.before = before
        self.limit = limit
    }

    public static let maxLimit = 50
    public static let defaultLimit = 20
}
