import DugnadProtocol
import NIOCore

/// Changing what was said: `edit` (the author, within `HubConfiguration.editWindowMillis`)
/// and `delete` (the author, or an admin as moderation, audited). Both go through the
/// writer, and their events through the bus like a message's, to every subscriber of the
/// channel on every node.
extension Hub {
    /// Whether a message sent at `sentAt` may still be edited at `now`: nil when it may.
    public static func editRefusal(sentAt: Int64, now: Int64, windowMillis: Int64) -> ProtocolError? {
        guard windowMillis > 0 else { return .forbidden("editing is turned off on this hub") }
        guard now - sentAt > windowMillis else { return nil }
        return .forbidden("a message can be edited for \(Self.describe(millis: windowMillis)) after it was sent")
    }

    /// Replaces the body of the caller's own message and tells the channel. Mentions
    /// follow the new body; members it mentions for the first time get a `mention` event.
    public func edit(
        messageID: String, body: String, by principal: Principal, on loop: any EventLoop, ticket: WriteTicket? = nil
    ) -> EventLoopFuture<StoredMessage> {
        let now = WallClock.nowMillis()
        return changeableMessage(messageID, by: principal, on: loop).flatMap { [self] message in
            guard message.fromID == principal.userID else {
                return loop.makeFailedFuture(ProtocolError.forbidden("only its author may edit a message"))
            }
            if let refusal = Self.editRefusal(sentAt: message.ts, now: now, windowMillis: configuration.editWindowMillis) {
                return loop.makeFailedFuture(refusal)
            }
            var edited = message
            edited.body = body
            if let tooLarge = messageFrameRefusal(edited) { return loop.makeFailedFuture(tooLarge) }
            let mentions = mentions(in: body, by: principal)
            let change = MessageEdit(
                messageID: messageID, body: body, at: now, mentionCandidates: mentions.ids,
                mentionsChannel: mentions.channel)
            return changed(
                write(.editMessage(change), on: loop, ticket: ticket) { outcome, post in
                    guard case .changedMessage(let stored, true) = outcome else { return }
                    post.events.append(
                        FanoutEvent(
                            target: .channel(stored.channel, exceptUser: nil), frame: EventEncoding.messageEditedEvent(stored)))
                    post.events.append(contentsOf: FanoutEvent.mentions(stored))
                }, on: loop)
        }
    }

    /// Deletes a message: the author's own, or anyone's by an admin (audited as
    /// `message.deleted`). A message deleted already is `not_found` ("was deleted"), as
    /// for `edit`.
    public func delete(messageID: String, by principal: Principal, on loop: any EventLoop, ticket: WriteTicket? = nil)
        -> EventLoopFuture<StoredMessage>
    {
        let now = WallClock.nowMillis()
        return changeableMessage(messageID, by: principal, on: loop, moderating: principal.isAdmin).flatMap {
            [self] message in
            var op = WriteOp.deleteMessage(messageID: messageID, at: now)
            if message.fromID != principal.userID {
                guard principal.isAdmin else {
                    return loop.makeFailedFuture(ProtocolError.forbidden("only its author or an admin may delete a message"))
                }
                let entry = AuditEntry.make(
                    actor: principal.userID, .messageDeleted, target: messageID,
                    detail: [
                        ("channel", .string(message.channel)), ("seq", .int(message.seq)), ("author", .string(message.fromID)),
                    ], at: now)
                op = .audited(op, entry)
            }
            return changed(
                write(op, on: loop, ticket: ticket) { outcome, post in
                    guard case .changedMessage(let stored, true) = outcome else { return }
                    post.events.append(
                        FanoutEvent(
                            target: .channel(stored.channel, exceptUser: nil), frame: EventEncoding.messageDeletedEvent(stored)))
                }, on: loop)
        }
    }

    /// The message, when the caller may change it at all: it exists, is not deleted, and
    /// is in a channel the caller may post in now (an admin `moderating` needs only that
    /// the channel exists). Announcements are not messages: they are refused by their id,
    /// without a look-up.
    private func changeableMessage(
        _ messageID: String, by principal: Principal, on loop: any EventLoop, moderating: Bool = false
    ) -> EventLoopFuture<StoredMessage> {
        if messageID.hasPrefix("a_") {
            return loop.makeFailedFuture(
                ProtocolError.badRequest(
                    "'\(messageID.prefix(64))' is an announcement: announcements are neither edited nor deleted; post a new one"))
        }
        return read(on: loop) { store in try store.message(id: messageID) }.flatMap { [self] found in
            guard let message = found else {
                return loop.makeFailedFuture(ProtocolError.notFound("no message '\(messageID)'"))
            }
            let asMember: () -> EventLoopFuture<ChannelRecord> = { [self] in
                readableChannel(message.channel, by: principal, for: .post, on: loop).flatMapThrowing { [self] record in
                    try checkPost(record, by: principal)
                    return record
                }
            }
            let access: EventLoopFuture<ChannelRecord>
            if moderating {
                // A direct channel is its members' alone: an admin moderates there only where
                // the deployment lets admins into direct channels; elsewhere as a member or not.
                access = channel(named: message.channel, on: loop).flatMap { [self] record in
                    guard let record else {
                        return loop.makeFailedFuture(ProtocolError.notFound("no message '\(messageID)'"))
                    }
                    if record.kind == .direct && !adminsReadDirect { return asMember() }
                    return loop.makeSucceededFuture(record)
                }
            } else {
                access = asMember()
            }
            return access.flatMapThrowing { _ in
                guard !message.deleted else { throw ProtocolError.notFound("message '\(messageID)' was deleted") }
                return message
            }
        }
    }

    /// The message an edit or deletion left.
    private func changed(_ written: EventLoopFuture<WriteOutcome>, on loop: any EventLoop) -> EventLoopFuture<StoredMessage> {
        written.flatMapThrowing { outcome in
            guard case .changedMessage(let stored, _) = outcome else { throw ProtocolError(.internal, "unexpected outcome") }
            return stored
        }
    }

    /// "24 hours", "15 minutes", "30 seconds": the window as people say it.
    static func describe(millis: Int64) -> String {
        let seconds = millis / 1000
        if seconds >= 3600, seconds % 3600 == 0 { return "\(seconds / 3600) hour\(seconds == 3600 ? "" : "s")" }
        if seconds >= 60, seconds % 60 == 0 { return "\(seconds / 60) minute\(seconds == 60 ? "" : "s")" }
        if seconds >= 1 { return "\(seconds) second\(seconds == 1 ? "" : "s")" }
        return "\(millis) ms"
    }
}

extension FanoutEvent {
    /// The `mention` event for every connection of the members a write just mentioned
    /// (none for most messages).
    public static func mentions(_ stored: StoredMessage) -> [FanoutEvent] {
        guard !stored.newlyMentioned.isEmpty else { return [] }
        return [FanoutEvent(target: .users(stored.newlyMentioned), frame: EventEncoding.mentionEvent(stored))]
    }
}
