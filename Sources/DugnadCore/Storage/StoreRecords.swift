import DugnadProtocol

/// A channel as stored. `lastSeq` is the seq of its newest durable message (0 when empty).
public struct ChannelRecord: Sendable, Equatable {
    public var name: String
    public var kind: ChannelKind
    public var title: String
    /// Fixed when the channel's history starts; changes only if that history is reset.
    public var epoch: String
    public var lastSeq: Int64
    /// Milliseconds since the Unix epoch.
    public var createdAt: Int64
    /// What the channel is for, in the directory; nil when nobody wrote one.
    public var description: String?
    /// The user whose `join` made the channel (who may describe it); nil when an admin, the
    /// CLI or the hub (a default channel) made it.
    public var createdBy: String?

    public init(
        name: String, kind: ChannelKind, title: String, epoch: String, lastSeq: Int64, createdAt: Int64,
        description: String? = nil, createdBy: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.title = title
        self.epoch = epoch
        self.lastSeq = lastSeq
        self.createdAt = createdAt
        self.description = description
        self.createdBy = createdBy
    }
}

/// A durable chat message.
public struct StoredMessage: Sendable, Equatable {
    /// `m_` followed by a ULID: sortable by time, unique without coordination.
    public var id: String
    public var channel: String
    public var seq: Int64
    public var fromID: String
    public var fromName: String
    /// The current body: the last edit's; empty once the message is deleted.
    public var body: String
    /// The client's `meta` object, kept as the compact JSON text it was sent as.
    public var metaJSON: String?
    public var replyTo: String?
    public var clientID: String?
    /// Milliseconds since the Unix epoch, set by the server.
    public var ts: Int64
    /// When the body was last edited; nil for a message never edited.
    public var editedAt: Int64?
    /// Deleted by its author or an admin: the body is gone from storage, the seq stays.
    public var deleted: Bool
    /// The members of the channel that the current body mentions (`@id`), in order.
    public var mentions: [String]
    /// `@channel` by a leader or admin: every member was mentioned.
    public var mentionsChannel: Bool
    /// Not stored: who the write that produced this value mentioned for the first time
    /// (a publish's mentions; an edit's added ones), for the `mention` events.
    public var newlyMentioned: [String]

    public init(
        id: String, channel: String, seq: Int64, fromID: String, fromName: String, body: String,
        metaJSON: String?, replyTo: String?, clientID: String?, ts: Int64, editedAt: Int64? = nil, deleted: Bool = false,
        mentions: [String] = [], mentionsChannel: Bool = false, newlyMentioned: [String] = []
    ) {
        self.id = id
        self.channel = channel
        self.seq = seq
        self.fromID = fromID
        self.fromName = fromName
        self.body = body
        self.metaJSON = metaJSON
        self.replyTo = replyTo
        self.clientID = clientID
        self.ts = ts
        self.editedAt = editedAt
        self.deleted = deleted
        self.mentions = mentions
        self.mentionsChannel = mentionsChannel
        self.newlyMentioned = newlyMentioned
    }
}

/// A message to be stored; `seq` is assigned by the store inside the committing transaction.
public struct NewMessage: Sendable, Equatable {
    public var id: String
    public var channel: String
    public var fromID: String
    public var fromName: String
    public var body: String
    public var metaJSON: String?
    public var replyTo: String?
    public var clientID: String?
    public var ts: Int64
    /// The ids the body mentions (`Mentions.parse`, without the author); the store keeps
    /// those who are members of the channel.
    public var mentionCandidates: [String]
    /// `@channel`, which the hub keeps only for leaders and admins.
    public var mentionsChannel: Bool

    public init(
        id: String, channel: String, fromID: String, fromName: String, body: String,
        metaJSON: String?, replyTo: String?, clientID: String?, ts: Int64, mentionCandidates: [String] = [],
        mentionsChannel: Bool = false
    ) {
        self.id = id
        self.channel = channel
        self.fromID = fromID
        self.fromName = fromName
        self.body = body
        self.metaJSON = metaJSON
        self.replyTo = replyTo
        self.clientID = clientID
        self.ts = ts
        self.mentionCandidates = mentionCandidates
        self.mentionsChannel = mentionsChannel
    }

    /// Whether storing it has mentions to record (the common publish has none).
    public var hasMentions: Bool { mentionsChannel || !mentionCandidates.isEmpty }
}

extension NewMessage {
    /// The message as stored with `seq` (every engine's publish makes it so).
    @inlinable
    public func stored(seq: Int64) -> StoredMessage {
        StoredMessage(
            id: id, channel: channel, seq: seq, fromID: fromID, fromName: fromName, body: body, metaJSON: metaJSON,
            replyTo: replyTo, clientID: clientID, ts: ts)
    }
}

/// A user's membership of a channel, with the user's read position (shared by all devices).
public struct MembershipRecord: Sendable, Equatable {
    public var channel: ChannelRecord
    public var readSeq: Int64
    /// Joined by the user, or granted by an admin (which decides access to a private
    /// channel once the token no longer lists it).
    public var kind: MembershipKind
    /// Mentions of the user in the channel after `readSeq`.
    public var unreadMentions: Int

    public init(channel: ChannelRecord, readSeq: Int64, kind: MembershipKind = .joined, unreadMentions: Int = 0) {
        self.channel = channel
        self.readSeq = readSeq
        self.kind = kind
        self.unreadMentions = unreadMentions
    }
}

extension MembershipRecord {
    /// Where a mark_read of `requested` moves a read position that is at `current`:
    /// forward only (another device may already be further), and never past `lastSeq`, the
    /// channel's newest message (a client cannot have read what does not exist).
    public static func readSeq(from current: Int64, toward requested: Int64, lastSeq: Int64) -> Int64 {
        max(current, min(requested, lastSeq))
    }
}

/// A user the hub knows: seen through a token, or imported from a directory.
public struct UserRecord: Sendable, Equatable {
    public var id: String
    public var name: String
    public var roles: [String]
    /// Milliseconds since the Unix epoch; nil if the user never connected.
    public var lastSeen: Int64?

    public init(id: String, name: String, roles: [String], lastSeen: Int64?) {
        self.id = id
        self.name = name
        self.roles = roles
        self.lastSeen = lastSeen
    }
}

/// One reaction change as stored.
public struct ReactionRecord: Sendable, Equatable {
    public var messageID: String
    public var channel: String
    public var userID: String
    public var emoji: String
    /// False when the add was already there or the remove found nothing.
    public var changed: Bool

    public init(messageID: String, channel: String, userID: String, emoji: String, changed: Bool) {
        self.messageID = messageID
        self.channel = channel
        self.userID = userID
        self.emoji = emoji
        self.changed = changed
    }
}

/// A store failure the hub can turn into a wire error.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case notFound
        case conflict
        /// The op is refused for now (a reminder too soon after the last one): the caller
        /// may try again after `retryAfterMs`.
        case tooSoon
        /// Storage is unavailable (disk full, read-only, I/O error): nothing was stored.
        case unavailable
    }

    public var kind: Kind
    public var message: String
    /// With `.tooSoon`: how long until the op would be taken.
    public var retryAfterMs: Int?

    public init(_ kind: Kind, _ message: String, retryAfterMs: Int? = nil) {
        self.kind = kind
        self.message = message
        self.retryAfterMs = retryAfterMs
    }

    public var description: String { message }
}
