import DugnadProtocol

/// What an engine does for each kind of `WriteOp` inside the transaction of a batch: one
/// method per op, each with the behaviour its `WriteOp` case documents and returning its
/// outcome. `WriteOp.apply(to:)` is the one place that maps an op to its method.
///
/// A conforming type holds the engine's open transaction (a connection, and whatever
/// the engine's SQL needs beside it) for one batch. Everything around a method stays with
/// the engine's `Store.write`: BEGIN and COMMIT, the savepoint around an op (or none, for
/// publishes), which errors fail the op alone and which fail the batch, and reruns. So a
/// method throws for the op's own failure (`StoreError` of kind `.notFound` or
/// `.conflict`, or an engine error that its `write` maps) and for a storage failure alike.
///
/// Methods are `mutating` so that an engine may carry state from op to op within a batch
/// (the SQLite engine counts a run of publishes and writes their rows once).
public protocol WriteTransaction {
    // MARK: Messages

    mutating func publish(_ message: NewMessage) throws -> WriteOutcome
    mutating func react(messageID: String, userID: String, emoji: String, remove: Bool, at: Int64) throws
        -> WriteOutcome
    mutating func editMessage(_ edit: MessageEdit) throws -> WriteOutcome
    mutating func deleteMessage(messageID: String, at: Int64) throws -> WriteOutcome

    // MARK: Channels and memberships

    mutating func createChannel(name: String, kind: ChannelKind, title: String, createdAt: Int64, createdBy: String?)
        throws -> WriteOutcome
    mutating func describeChannel(name: String, description: String?) throws -> WriteOutcome
    mutating func join(userID: String, channel: String, at: Int64) throws -> WriteOutcome
    mutating func forget(userID: String, channel: String) throws -> WriteOutcome
    mutating func markRead(userID: String, channel: String, seq: Int64) throws -> WriteOutcome

    // MARK: Users and sessions

    mutating func upsertUser(id: String, name: String, roles: [String], seenAt: Int64) throws -> WriteOutcome
    mutating func openSession(id: String, userID: String, at: Int64) throws -> WriteOutcome
    mutating func closeSession(id: String, userID: String, at: Int64) throws -> WriteOutcome
    mutating func heartbeat(at: Int64) throws -> WriteOutcome

    // MARK: Announcements

    mutating func announce(_ announcement: NewAnnouncement) throws -> WriteOutcome
    mutating func markDelivered(announcementID: String, userIDs: [String], at: Int64) throws -> WriteOutcome
    mutating func acknowledge(announcementID: String, userID: String, kind: AckKind, at: Int64) throws
        -> WriteOutcome
    mutating func remind(announcementID: String, byUserID: String, at: Int64, notWithinMillis: Int64) throws
        -> WriteOutcome
    mutating func dueUrgentResends(onlineUserIDs: [String], now: Int64, intervalMillis: Int64, maxResends: Int)
        throws -> WriteOutcome

    // MARK: Directory and API keys

    mutating func importUsers(_ users: [UserRecord]) throws -> WriteOutcome
    mutating func createAPIKey(_ key: APIKeyRecord) throws -> WriteOutcome
    mutating func revokeAPIKey(idOrName: String, at: Int64) throws -> WriteOutcome

    // MARK: Governance

    mutating func grantMembership(userID: String, channel: String, at: Int64) throws -> WriteOutcome
    mutating func revokeMembership(userID: String, channel: String, keepGranted: Bool) throws -> WriteOutcome
    mutating func ban(_ ban: BanRecord) throws -> WriteOutcome
    mutating func unban(userID: String) throws -> WriteOutcome
    mutating func setGoals(_ goals: [GoalRecord]) throws -> WriteOutcome
    mutating func reachLateRecipient(userID: String, channel: String?, at: Int64) throws -> WriteOutcome
    /// Appends `entry` to the audit log (the store gives it its `seq`).
    mutating func appendAudit(_ entry: AuditEntry) throws
}

extension WriteTransaction {
    /// `WriteOp.createDirect`, made of the engine's own steps: the channel, then a grant
    /// for each member, in the op's savepoint (all or nothing).
    @inlinable
    public mutating func createDirect(name: String, title: String, members: [String], at: Int64) throws -> WriteOutcome {
        let outcome = try createChannel(name: name, kind: .direct, title: title, createdAt: at, createdBy: nil)
        guard case .channel(let record, let created) = outcome else { return outcome }
        guard record.kind == .direct else {
            throw StoreError(.conflict, "channel '\(name)' exists and is not a direct channel")
        }
        guard created else { return outcome }
        for member in members { _ = try grantMembership(userID: member, channel: name, at: at) }
        return outcome
    }
}

extension WriteOp {
    /// Runs the op on `transaction`, the engine's open transaction.
    ///
    /// Inlinable so that an optimised build specialises it for each engine's transaction
    /// type (direct calls rather than through the protocol). The batch loops call
    /// `publish` on their own transaction directly, so the hot path never comes here.
    @inlinable
    public func apply(to transaction: inout some WriteTransaction) throws -> WriteOutcome {
        switch self {
        case .publish(let message):
            try transaction.publish(message)
        case .createChannel(let name, let kind, let title, let createdAt, let createdBy):
            try transaction.createChannel(name: name, kind: kind, title: title, createdAt: createdAt, createdBy: createdBy)
        case .createDirect(let name, let title, let members, let at):
            try transaction.createDirect(name: name, title: title, members: members, at: at)
        case .describeChannel(let name, let description):
            try transaction.describeChannel(name: name, description: description)
        case .join(let userID, let channel, let at):
            try transaction.join(userID: userID, channel: channel, at: at)
        case .forget(let userID, let channel):
            try transaction.forget(userID: userID, channel: channel)
        case .markRead(let userID, let channel, let seq):
            try transaction.markRead(userID: userID, channel: channel, seq: seq)
        case .react(let messageID, let userID, let emoji, let remove, let at):
            try transaction.react(messageID: messageID, userID: userID, emoji: emoji, remove: remove, at: at)
        case .editMessage(let edit):
            try transaction.editMessage(edit)
        case .deleteMessage(let messageID, let at):
            try transaction.deleteMessage(messageID: messageID, at: at)
        case .upsertUser(let id, let name, let roles, let seenAt):
            try transaction.upsertUser(id: id, name: name, roles: roles, seenAt: seenAt)
        case .openSession(let id, let userID, let at):
            try transaction.openSession(id: id, userID: userID, at: at)
        case .closeSession(let id, let userID, let at):
            try transaction.closeSession(id: id, userID: userID, at: at)
        case .heartbeat(let at):
            try transaction.heartbeat(at: at)
        case .announce(let announcement):
            try transaction.announce(announcement)
        case .markDelivered(let announcementID, let userIDs, let at):
            try transaction.markDelivered(announcementID: announcementID, userIDs: userIDs, at: at)
        case .acknowledge(let announcementID, let userID, let kind, let at):
            try transaction.acknowledge(announcementID: announcementID, userID: userID, kind: kind, at: at)
        case .remind(let announcementID, let byUserID, let at, let notWithinMillis):
            try transaction.remind(announcementID: announcementID, byUserID: byUserID, at: at, notWithinMillis: notWithinMillis)
        case .dueUrgentResends(let onlineUserIDs, let now, let intervalMillis, let maxResends):
            try transaction.dueUrgentResends(
                onlineUserIDs: onlineUserIDs, now: now, intervalMillis: intervalMillis, maxResends: maxResends)
        case .importUsers(let users):
            try transaction.importUsers(users)
        case .createAPIKey(let key):
            try transaction.createAPIKey(key)
        case .revokeAPIKey(let idOrName, let at):
            try transaction.revokeAPIKey(idOrName: idOrName, at: at)
        case .grantMembership(let userID, let channel, let at):
            try transaction.grantMembership(userID: userID, channel: channel, at: at)
        case .revokeMembership(let userID, let channel, let keepGranted):
            try transaction.revokeMembership(userID: userID, channel: channel, keepGranted: keepGranted)
        case .ban(let ban):
            try transaction.ban(ban)
        case .unban(let userID):
            try transaction.unban(userID: userID)
        case .setGoals(let goals):
            try transaction.setGoals(goals)
        case .reachLateRecipient(let userID, let channel, let at):
            try transaction.reachLateRecipient(userID: userID, channel: channel, at: at)
        case .audited(let op, let entry):
            try Self.applyAudited(op, entry, to: &transaction)
        }
    }

    @usableFromInline
    static func applyAudited(_ op: WriteOp, _ entry: AuditEntry, to transaction: inout some WriteTransaction) throws
        -> WriteOutcome
    {
        let outcome = try op.apply(to: &transaction)
        if outcome.changedSomething { try transaction.appendAudit(entry) }
        return outcome
    }
}
