import DugnadProtocol

/// One change for the single writer. Every op of a batch commits in one transaction, and
/// an op that fails for its own reasons fails alone, leaving nothing behind (see
/// `Store.write`).
///
/// Adding an op: a case here (and its `action`), a method of `WriteTransaction` and its
/// case in `WriteOp.apply(to:)`, and each engine's SQL for it.
public enum WriteOp: Sendable {
    /// Stores a message with the channel's next seq, unless (fromID, clientID) was stored
    /// before, in which case the first message is returned as a duplicate. Moves the
    /// publisher's read position to the message. Fails with `.notFound` for an unknown
    /// channel or a `replyTo` that is not a message of the same channel.
    case publish(NewMessage)
    /// Replaces a message's body, sets `edited_at` and records the change for recovery
    /// (`Store.changedMessages`). Mentions follow the new body; a member is mentioned
    /// (a row for the unread count, and `newlyMentioned`) once per message, so an edit
    /// that adds a mention mentions and one that repeats it does not. `.changedMessage`;
    /// `.notFound` for a message that is missing or deleted.
    case editMessage(MessageEdit)
    /// Deletes a message: its body (and meta, mentions and reactions) is gone from
    /// storage, its seq stays, and the change is recorded for recovery. `.changedMessage`
    /// with changed false when it was deleted already; `.notFound` for an unknown message.
    case deleteMessage(messageID: String, at: Int64)
    /// Creates a channel with a fresh epoch; returns the existing one (created: false) if
    /// the name is taken. `createdBy`: the user whose `join` created it (counted against
    /// that user's daily quota of new channels); nil for an admin's explicit creation.
    case createChannel(name: String, kind: ChannelKind, title: String, createdAt: Int64, createdBy: String? = nil)
    /// Creates the direct channel `name` (kind `.direct`) with `members` granted in, or
    /// returns it (created: false) when it exists; `.conflict` when the name is taken by a
    /// channel that is not direct. The hub derives `name` from the members
    /// (`DirectChannelName`), so an existing direct channel has exactly these members.
    case createDirect(name: String, title: String, members: [String], at: Int64)
    /// Sets (nil: removes) the channel's description; `.channel(record, created: true)`
    /// with the record as it is now, `.notFound` for an unknown channel. Who may is the
    /// hub's to check.
    case describeChannel(name: String, description: String?)
    /// Makes the user a member; a new member's read position starts at the channel's lastSeq.
    case join(userID: String, channel: String, at: Int64)
    /// Ends the membership (leave with forget).
    case forget(userID: String, channel: String)
    /// Moves the read position forward only, clamped to the channel's lastSeq.
    case markRead(userID: String, channel: String, seq: Int64)
    /// Adds or removes a reaction; fails with `.notFound` for an unknown message.
    case react(messageID: String, userID: String, emoji: String, remove: Bool, at: Int64)
    /// Records a user seen through a token (name and roles as the token says).
    case upsertUser(id: String, name: String, roles: [String], seenAt: Int64)
    /// Records the start of a connection's session.
    case openSession(id: String, userID: String, at: Int64)
    /// Records the end of a connection's session and the user's last_seen.
    case closeSession(id: String, userID: String, at: Int64)
    /// Marks every open session as alive at `at` (so a crash loses at most one interval).
    case heartbeat(at: Int64)
    /// Stores an announcement and fixes its audience in the same transaction: for `.all`
    /// every user in `users`, for `.channels` the members of those channels at this moment;
    /// never the author. A retry with the same (fromID, clientID) returns the first one as
    /// a duplicate. Unknown channels in the audience fail with `.notFound`.
    case announce(NewAnnouncement)
    /// Records that the announcement was sent on a socket to these users (first time only).
    case markDelivered(announcementID: String, userIDs: [String], at: Int64)
    /// Records a read (or an ack, which is also a read) the first time; `.notFound` when the
    /// user is not in the audience.
    case acknowledge(announcementID: String, userID: String, kind: AckKind, at: Int64)
    /// Records a reminder by `byUserID` and returns the audience users who have not
    /// acknowledged (or not read, where no ack is required). Fails with `.tooSoon` when the
    /// announcement was reminded less than `notWithinMillis` before `at` (by anyone).
    case remind(announcementID: String, byUserID: String, at: Int64, notWithinMillis: Int64 = 0)
    /// For urgent announcements that require an ack: among `onlineUserIDs`, the users of
    /// each audience who have not acknowledged, were last sent it at least `intervalMillis`
    /// ago and were re-sent it fewer than `maxResends` times; records the re-send for them.
    case dueUrgentResends(onlineUserIDs: [String], now: Int64, intervalMillis: Int64, maxResends: Int)
    /// Adds the user to the audience of every announcement current at `at` (`until` later)
    /// that it would have been in when it was posted: to everyone (`channel` nil) or to
    /// `channel`; never its author's. `.reached` with those whose audience grew.
    case reachLateRecipient(userID: String, channel: String?, at: Int64)
    /// Adds or updates users of the directory (name and roles); keeps last_seen.
    case importUsers([UserRecord])
    case createAPIKey(APIKeyRecord)
    /// Revokes by id or by name; `.notFound` when no live key matches.
    case revokeAPIKey(idOrName: String, at: Int64)

    // MARK: Governance

    /// An admin makes the user a member (`.membership`, created: true when the grant is
    /// new, also when the user had joined before); `.notFound` for an unknown channel.
    case grantMembership(userID: String, channel: String, at: Int64)
    /// Ends the membership, however it came about (`.count`: 1, or 0 when there was none);
    /// with `keepGranted`, only one the user joined (a claim that lapsed must not undo an
    /// admin's grant made meanwhile).
    case revokeMembership(userID: String, channel: String, keepGranted: Bool = false)
    /// Bans a user, or replaces the ban's time, author and reason (`.done`: either way
    /// an action).
    case ban(BanRecord)
    /// Lifts a ban (`.count`: 1, or 0 when there was none).
    case unban(userID: String)
    /// Replaces every goal with `goals` (an empty list clears them); `.done`.
    case setGoals([GoalRecord])
    /// Runs `op` and, when it changed something (`WriteOutcome.changedSomething`), records
    /// `entry` in the audit log in the same savepoint: the log holds exactly the admin
    /// actions that took effect.
    indirect case audited(WriteOp, AuditEntry)
}

/// What a `WriteOp` produced.
public enum WriteOutcome: Sendable, Equatable {
    case message(StoredMessage, duplicate: Bool)
    case channel(ChannelRecord, created: Bool)
    case membership(channel: ChannelRecord, readSeq: Int64, created: Bool)
    case readSeq(Int64)
    case reaction(ReactionRecord)
    /// A message as an edit or a deletion left it; `changed` false when nothing changed
    /// (a deletion of a deleted message).
    case changedMessage(StoredMessage, changed: Bool)
    /// The announcement and the user ids of its audience (empty for a duplicate).
    case announcement(AnnouncementRecord, audience: [String], duplicate: Bool)
    /// Whether a receipt was recorded now (false when it was already there).
    case receipt(changed: Bool)
    /// Users to send an announcement to (remind).
    case recipients([String])
    /// Urgent re-sends due: announcement id → users.
    case resends([String: [String]])
    case count(Int)
    case apiKey(APIKeyRecord)
    /// Announcements whose audience the op grew (`reachLateRecipient`), as stored now.
    case reached([AnnouncementRecord])
    case done
}

extension WriteOutcome {
    /// False for an op that found everything as it would have left it (a channel that
    /// existed, a duplicate, a grant already in place, nothing to remove): such an op is
    /// not an action for the audit log.
    public var changedSomething: Bool {
        switch self {
        case .channel(_, let created): created
        case .membership(_, _, let created): created
        case .message(_, let duplicate), .announcement(_, _, let duplicate): !duplicate
        case .changedMessage(_, let changed): changed
        case .count(let count): count > 0
        default: true
        }
    }
}

extension WriteOp {
    /// What the op tried to do, for error messages (every store uses it).
    public var action: String {
        switch self {
        case .publish(let message): "publish to '\(message.channel)'"
        case .createChannel(let name, _, _, _, _): "create channel '\(name)'"
        case .createDirect(let name, _, _, _): "create direct channel '\(name)'"
        case .describeChannel(let name, _): "describe channel '\(name)'"
        case .join(let userID, let channel, _): "add '\(userID)' to '\(channel)'"
        case .forget(let userID, let channel): "remove '\(userID)' from '\(channel)'"
        case .markRead(let userID, let channel, _): "move the read position of '\(userID)' in '\(channel)'"
        case .react(let messageID, _, _, _, _): "react to '\(messageID)'"
        case .editMessage(let edit): "edit message '\(edit.messageID)'"
        case .deleteMessage(let messageID, _): "delete message '\(messageID)'"
        case .upsertUser(let id, _, _, _): "record user '\(id)'"
        case .openSession(let id, _, _): "open session '\(id)'"
        case .closeSession(let id, _, _): "close session '\(id)'"
        case .heartbeat: "record a heartbeat"
        case .announce(let announcement): "store announcement '\(announcement.id)'"
        case .markDelivered(let announcementID, _, _): "record the delivery of '\(announcementID)'"
        case .acknowledge(let announcementID, let userID, let kind, _):
            "record the \(kind.rawValue) of '\(announcementID)' by '\(userID)'"
        case .remind(let announcementID, _, _, _): "record a reminder of '\(announcementID)'"
        case .dueUrgentResends: "record the urgent re-sends"
        case .importUsers(let users): "import \(users.count) users"
        case .createAPIKey(let key): "create API key '\(key.name)'"
        case .revokeAPIKey(let idOrName, _): "revoke API key '\(idOrName)'"
        case .grantMembership(let userID, let channel, _): "make '\(userID)' a member of '\(channel)'"
        case .revokeMembership(let userID, let channel, _): "remove '\(userID)' from '\(channel)'"
        case .ban(let ban): "ban '\(ban.userID)'"
        case .unban(let userID): "lift the ban of '\(userID)'"
        case .setGoals: "set the goals"
        case .reachLateRecipient(let userID, _, _): "add '\(userID)' to current announcements"
        case .audited(let op, _): op.action
        }
    }
}
