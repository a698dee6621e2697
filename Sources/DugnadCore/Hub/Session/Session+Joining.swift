import DugnadProtocol
import NIOCore

/// Joining and leaving channels: `join` (creating a public channel when allowed, then
/// subscribing and recovering what the client missed), `leave` (optionally forgetting
/// the membership), and the end of a subscription when access ends.
extension Session {
    func join(_ request: JoinRequest, ref: JSONValue?, ticket: WriteTicket) {
        let hub = self.hub
        let loop = self.loop
        let principal = self.principal
        let name = request.channel
        let resolved: EventLoopFuture<ChannelRecord> = hub.channel(named: name, on: loop).flatMap { record in
            if let record { return loop.makeSucceededFuture(record) }
            return hub.createChannelOnJoin(name, by: principal, on: loop)
        }
        let joinedFuture = resolved.flatMap { record in
            hub.checkJoin(record, by: principal, on: loop).flatMap {
                hub.write(.join(userID: principal.userID, channel: name, at: WallClock.nowMillis()), on: loop, ticket: ticket)
            }.flatMapThrowing { outcome -> (ChannelRecord, Int64) in
                guard case .membership(let channel, let readSeq, let created) = outcome else {
                    throw ProtocolError(.internal, "unexpected outcome")
                }
                hub.noteMembership(userID: principal.userID, channel: name, kind: .joined)
                // A new member of a channel gets the announcements to it that are still current.
                if created { hub.reachLateRecipient(principal.userID, channel: name) }
                hub.metrics.joins.increment()
                return (channel, readSeq)
            }
        }
        joinedFuture.assumeIsolated().whenComplete { result in
            ticket.release()
            switch result {
            case .failure(let error):
                self.fail(ref, Hub.protocolError(error))
            case .success(let (record, readSeq)):
                self.subscribe(name)
                hub.bus.subscribed(channel: name, lastSeq: record.lastSeq)
                self.loadJoinMessages(request, record: record, readSeq: readSeq, ref: ref)
            }
        }
    }

    func subscribe(_ channel: String) {
        guard !ended, let output, !joined.contains(channel) else { return }
        joined.insert(channel)
        hub.local.router(for: loop).subscribe(output, to: channel)
        let member = PresenceState.Member(id: principal.userID, name: principal.name)
        hub.presenceState.withLockedValue { _ = $0.join(channel: channel, user: member) }
    }

    /// What a `join` reply carries: the page of messages and, when recovering, the changes.
    private struct JoinMessages: Sendable {
        var messages: [StoredMessage]
        var hasMore: Bool
        var changes: (messages: [StoredMessage], truncated: Bool)?
        /// The channel as its reader sees it (a direct channel titled with the other
        /// people's names, as in the welcome and the directory).
        var channel: ChannelRecord
    }

    /// After subscribing (so nothing published meanwhile is missed), reads what the client
    /// asked for: missed messages after `since` and the edits and deletions of older ones
    /// made while it was away (`Store.changedMessages`), or the latest `history`.
    private func loadJoinMessages(_ request: JoinRequest, record: ChannelRecord, readSeq: Int64, ref: JSONValue?) {
        let channel = record.name
        // Only another epoch means the client's history is gone; without `since` there was
        // nothing to recover, so nothing was lost either.
        let epochChanged = request.since != nil && request.epoch != nil && request.epoch != record.epoch
        let recovering = request.since != nil && !epochChanged
        let page: HistoryPage?
        if recovering, let since = request.since {
            page = .after(seq: since, limit: Limits.maxRecoveredMessages)
        } else if let history = request.history, history > 0 {
            page = .latest(limit: history)
        } else if request.since != nil {
            page = .latest(limit: Limits.defaultHistoryLimit)
        } else {
            page = nil
        }
        // A quarter of the reply's bound for the changes when recovering.
        let maxBytes = hub.configuration.maxReplyBytes
        let changesBytes = recovering ? maxBytes / 4 : 0
        let keep: ReplyBound.Keep = recovering ? .oldest : .newest
        let changesSince = recovering ? request.since : nil
        let viewer = principal.userID
        let messages: EventLoopFuture<JoinMessages>
        if page == nil && record.kind != .direct {
            messages = loop.makeSucceededFuture(JoinMessages(messages: [], hasMore: false, channel: record))
        } else {
            messages = hub.read(on: loop) { store in
                var result = JoinMessages(
                    messages: [], hasMore: false, channel: try Hub.titledForViewer(record, viewer: viewer, store: store))
                guard let page else { return result }
                let read = try store.messages(channel: channel, page: page)
                let fitted = ReplyBound.fit(read.messages, keep: keep, maxBytes: maxBytes - changesBytes)
                result.messages = fitted.messages
                result.hasMore = read.hasMore || fitted.trimmed
                if let since = changesSince {
                    let changed = try store.changedMessages(
                        channel: channel, since: since, limit: Limits.maxRecoveredMessages)
                    let fittedChanges = ReplyBound.fit(changed.messages, keep: .oldest, maxBytes: changesBytes)
                    result.changes = (fittedChanges.messages, changed.hasMore || fittedChanges.trimmed)
                }
                return result
            }
        }
        respond(ref, messages) { [hub] writer, result in
            let cached = hub.channelCache.withLockedValue { $0[channel] }
            let lastSeq = max(cached?.lastSeq ?? record.lastSeq, result.messages.last?.seq ?? 0, record.lastSeq)
            EventEncoding.writeJoined(
                result.channel, lastSeq: lastSeq, readSeq: readSeq, messages: result.messages, recovered: !epochChanged,
                truncated: request.since != nil ? recovering && result.hasMore : nil,
                hasMore: page != nil && !recovering ? result.hasMore : nil, changes: result.changes,
                presence: hub.presence(channel: channel), into: &writer)
        }
    }

    func leave(channel: String, forget: Bool, ref: JSONValue?, ticket: WriteTicket) {
        // Everyone stays in the default channels (the next connection would add them back):
        // leaving one is refused whole, so the client's view stays true.
        if forget, DirectChannelName.isReserved(channel) {
            ticket.release()
            return fail(
                ref, .forbidden("'\(channel)' is a direct channel: its people stay (leave without 'forget' to unsubscribe)"))
        }
        if forget, hub.configuration.defaultChannels.contains(channel), !principal.isBot {
            ticket.release()
            return fail(
                ref,
                .forbidden(
                    "'\(channel)' is a default channel: everyone stays a member (leave without 'forget' to unsubscribe)"))
        }
        if joined.remove(channel) != nil, let output {
            hub.local.router(for: loop).unsubscribe(output, from: channel)
            let userID = principal.userID
            hub.presenceState.withLockedValue { _ = $0.leave(channel: channel, userID: userID) }
        }
        guard forget else {
            ticket.release()
            return respondOK(ref)
        }
        let userID = principal.userID
        let forgotten = hub.write(.forget(userID: userID, channel: channel), on: loop, ticket: ticket).map { [hub] _ in
            hub.noteMembership(userID: userID, channel: channel, kind: nil)
        }
        respondEmpty(ref, forgotten, ticket: ticket)
    }

    /// Access to `channel` ended (an admin removed the user, or the credentials no longer
    /// reach it): the subscription ends, presence leaves, and the client is told why.
    /// Nothing happens on a connection that was not subscribed.
    public func accessEnded(to channel: String, reason: String) {
        guard !ended, let output, joined.remove(channel) != nil else { return }
        hub.local.router(for: loop).unsubscribe(output, from: channel)
        let userID = principal.userID
        hub.presenceState.withLockedValue { _ = $0.leave(channel: channel, userID: userID) }
        output.send(EventEncoding.removedEvent(channel: channel, reason: reason))
    }
}
