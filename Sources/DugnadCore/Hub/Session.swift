import DugnadProtocol
import NIOCore

/// What a session needs from its connection. Implemented by the transport's handler and
/// confined to its event loop.
public protocol ConnectionOutput: FrameSink {
    /// Queues and flushes one frame.
    func send(_ frame: ByteBuffer)
    /// The credentials changed (refresh): reschedule expiry warnings and the close at `exp`.
    func credentialsChanged(_ principal: Principal)
}

/// Facts about the server that the welcome announces.
public struct ServerInfo: Sendable {
    public var version: String
    public var pingInterval: Int

    public init(version: String, pingInterval: Int) {
        self.version = version
        self.pingInterval = pingInterval
    }
}

/// One authenticated connection's state: what it joined, its rate limits, its principal.
/// Confined to the connection's event loop (not Sendable); every future it waits on is
/// completed on that loop and handled through `assumeIsolated()`.
public final class Session {
    public let id: String
    public private(set) var principal: Principal
    let hub: Hub
    let authenticator: Authenticator
    let loop: any EventLoop
    private var output: (any ConnectionOutput)?
    private var joined: Set<String> = []
    private var publishBucket: TokenBucket
    private var commandBucket: TokenBucket
    private var strikes = 0
    private var ended = false
    private var retainedMemberships = false

    private init(hub: Hub, authenticator: Authenticator, principal: Principal, output: any ConnectionOutput, loop: any EventLoop)
    {
        self.id = Identifiers.sessionID()
        self.hub = hub
        self.authenticator = authenticator
        self.principal = principal
        self.output = output
        self.loop = loop
        let now = NIODeadline.now().uptimeNanoseconds
        let configuration = hub.configuration
        publishBucket = TokenBucket(rate: configuration.publishRate, burst: configuration.publishBurst, now: now)
        commandBucket = TokenBucket(rate: configuration.commandRate, burst: configuration.commandBurst, now: now)
    }

    /// Opens a session: records the user and the session, loads memberships and sends the
    /// welcome. Must be called on `loop`, after `Hub.reserveConnection` succeeded for the
    /// user (the session's `end()` gives that slot back).
    public static func open(
        hub: Hub, authenticator: Authenticator, principal: Principal, output: any ConnectionOutput,
        loop: any EventLoop, server: ServerInfo
    ) -> EventLoopFuture<Session> {
        let session = Session(hub: hub, authenticator: authenticator, principal: principal, output: output, loop: loop)
        let now = WallClock.nowMillis()
        hub.writer.submit(.upsertUser(id: principal.userID, name: principal.name, roles: principal.roleNames, seenAt: now))
        hub.writer.submit(.openSession(id: session.id, userID: principal.userID, at: now))
        hub.local.router(for: loop).register(output)
        hub.metrics.connections.increment()
        hub.metrics.connectionsOpened.increment()
        let userID = principal.userID
        let opened = hub.read(on: loop) { store in
            (try store.memberships(userID: userID), try store.pendingAnnouncements(userID: userID, now: now))
        }
        .assumeIsolated()
        .map { memberships, announcements in
            hub.retainMemberships(userID: userID, channels: memberships.map(\.channel.name))
            session.retainedMemberships = true
            for membership in memberships { hub.cacheChannel(membership.channel) }
            session.sendWelcome(memberships: memberships, announcements: announcements, server: server)
            for pending in announcements {
                hub.writer.submit(.markDelivered(announcementID: pending.announcement.id, userIDs: [userID], at: now)) { _, _ in
                    hub.markStatsDirty(pending.announcement.id)
                }
            }
            return session
        }
        // A session whose welcome could not be read gives back everything it took.
        opened.whenFailure { _ in session.end() }
        return opened.nonisolated()
    }

    private func sendWelcome(memberships: [MembershipRecord], announcements: [UserAnnouncement], server: ServerInfo) {
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.key("type")
        writer.string("welcome")
        writer.key("session")
        writer.string(id)
        writer.key("user")
        writeUser(&writer)
        writer.key("server")
        writer.beginObject()
        writer.key("version")
        writer.string(server.version)
        writer.key("ping_interval")
        writer.int(server.pingInterval)
        writer.key("max_frame_bytes")
        writer.int(hub.configuration.limits.maxFrameBytes)
        writer.endObject()
        writer.key("channels")
        writer.beginArray()
        for membership in memberships {
            EventEncoding.writeChannel(membership.channel, withLastSeq: true, readSeq: membership.readSeq, into: &writer)
        }
        writer.endArray()
        writer.key("announcements")
        writer.beginArray()
        for pending in announcements {
            writer.beginObject()
            EventEncoding.writeAnnouncement(
                pending.announcement, receipt: (pending.readAt, pending.ackedAt), into: &writer)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        output?.send(OutboundFrame.make(writer.bytes))
    }

    private func writeUser(_ writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.string(principal.userID)
        writer.key("name")
        writer.string(principal.name)
        writer.key("roles")
        writer.beginArray()
        for role in principal.roleNames { writer.string(role) }
        writer.endArray()
        writer.endObject()
    }

    /// Ends the session: presence leaves, subscriptions go, the session is recorded closed.
    /// Idempotent.
    public func end() {
        guard !ended else { return }
        ended = true
        let router = hub.local.router(for: loop)
        let userID = principal.userID
        if let output {
            for channel in joined { router.unsubscribe(output, from: channel) }
            router.unregister(output)
        }
        let channels = joined
        hub.presenceState.withLockedValue { state in
            for channel in channels { state.leave(channel: channel, userID: userID) }
            state.disconnect(userID: userID)
        }
        joined.removeAll()
        if retainedMemberships { hub.releaseMemberships(userID: userID) }
        hub.writer.submit(.closeSession(id: id, userID: userID, at: WallClock.nowMillis()))
        hub.metrics.connections.decrement()
        output = nil
    }

    // MARK: - Commands

    /// Handles one decoded command. Replies (when `ref` is given) or errors go out through
    /// the connection's output.
    public func handle(ref: JSONValue?, command: ClientCommand) {
        guard !ended else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        if let retry = commandBucket.take(now: now) {
            return rateLimited(ref: ref, retryAfterMs: retry)
        }
        if case .publish = command, let retry = publishBucket.take(now: now) {
            return rateLimited(ref: ref, retryAfterMs: retry)
        }
        strikes = 0
        switch command {
        case .auth:
            fail(ref, .badRequest("already authenticated"))
        case .join(let request):
            join(request, ref: ref)
        case .leave(let channel, let forget):
            leave(channel: channel, forget: forget, ref: ref)
        case .markRead(let channel, let seq):
            markRead(channel: channel, seq: seq, ref: ref)
        case .publish(let request):
            respond(ref, hub.publish(request, by: principal, on: loop)) { writer, result in
                writer.key("message")
                EventEncoding.writeMessageObject(result.message, into: &writer)
            }
        case .history(let channel, let page):
            respond(ref, hub.history(channel: channel, page: page, by: principal, on: loop)) { writer, result in
                writer.key("messages")
                EventEncoding.writeMessages(result.messages, into: &writer)
                writer.key("has_more")
                writer.bool(result.hasMore)
            }
        case .presence(let channel):
            respond(ref, hub.readableChannel(channel, by: principal, on: loop)) { [hub] writer, _ in
                Session.writePresence(hub.presence(channel: channel), into: &writer)
            }
        case .members(let channel, let limit, let after):
            members(channel: channel, limit: limit, after: after, ref: ref)
        case .typing(let channel):
            typing(channel: channel, ref: ref)
        case .react(let messageID, let emoji, let remove):
            react(messageID: messageID, emoji: emoji, remove: remove, ref: ref)
        case .refresh(let token):
            refresh(token: token, ref: ref)
        case .ping:
            if let ref { output?.send(EventEncoding.okReply(ref: ref)) }
        case .announce(let request):
            respond(ref, hub.announce(request, by: principal, on: loop)) { writer, result in
                writer.key("announcement")
                EventEncoding.writeAnnouncementObject(result.announcement, into: &writer)
            }
        case .ack(let announcementID, let kind):
            respondEmpty(ref, hub.acknowledge(announcementID, kind: kind, by: principal, on: loop))
        case .announcementStats(let announcementID):
            respond(ref, hub.announcementStats(announcementID, by: principal, on: loop)) { writer, result in
                writer.key("id")
                writer.string(announcementID)
                writer.key("stats")
                writer.beginObject()
                EventEncoding.writeStats(result.stats, into: &writer)
                writer.endObject()
            }
        case .remind(let announcementID):
            respond(ref, hub.remind(announcementID, by: principal, on: loop)) { writer, count in
                writer.key("reminded")
                writer.int(count)
            }
        }
    }

    private func rateLimited(ref: JSONValue?, retryAfterMs: Int) {
        hub.metrics.rateLimited.increment()
        strikes += 1
        if strikes >= hub.configuration.rateLimitStrikes {
            output?.close(code: .rateLimited, reason: "rate limit exceeded repeatedly")
            return
        }
        fail(ref, ProtocolError(.rateLimited, "too many requests; slow down", retryAfterMs: retryAfterMs))
    }

    private func join(_ request: JoinRequest, ref: JSONValue?) {
        let hub = self.hub
        let loop = self.loop
        let principal = self.principal
        let name = request.channel
        let resolved: EventLoopFuture<ChannelRecord> = hub.channel(named: name, on: loop).flatMap { record in
            if let record { return loop.makeSucceededFuture(record) }
            guard hub.configuration.autoCreatePublicChannels else {
                return loop.makeFailedFuture(ProtocolError.notFound("no channel '\(name)'"))
            }
            return hub.write(.createChannel(name: name, kind: .public, title: name, createdAt: WallClock.nowMillis()), on: loop)
                .flatMapThrowing { outcome in
                    guard case .channel(let record, _) = outcome else { throw ProtocolError(.internal, "unexpected outcome") }
                    hub.cacheChannel(record)
                    return record
                }
        }
        let joinedFuture = resolved.flatMap { record in
            hub.checkJoin(record, by: principal, on: loop).flatMap {
                hub.write(.join(userID: principal.userID, channel: name, at: WallClock.nowMillis()), on: loop)
            }.flatMapThrowing { outcome -> (ChannelRecord, Int64) in
                guard case .membership(let channel, let readSeq, _) = outcome else {
                    throw ProtocolError(.internal, "unexpected outcome")
                }
                hub.noteMembership(userID: principal.userID, channel: name, member: true)
                hub.metrics.joins.increment()
                return (channel, readSeq)
            }
        }
        joinedFuture.assumeIsolated().whenComplete { result in
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

    private func subscribe(_ channel: String) {
        guard !ended, let output, !joined.contains(channel) else { return }
        joined.insert(channel)
        hub.local.router(for: loop).subscribe(output, to: channel)
        let member = PresenceState.Member(id: principal.userID, name: principal.name)
        hub.presenceState.withLockedValue { _ = $0.join(channel: channel, user: member) }
    }

    /// After subscribing (so nothing published meanwhile is missed), reads what the client
    /// asked for: missed messages after `since`, or the latest `history`.
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
        let messages: EventLoopFuture<(messages: [StoredMessage], hasMore: Bool)>
        if let page {
            messages = hub.read(on: loop) { store in try store.messages(channel: channel, page: page) }
        } else {
            messages = loop.makeSucceededFuture(([], false))
        }
        respond(ref, messages) { [hub] writer, result in
            let cached = hub.channelCache.withLockedValue { $0[channel] }
            let lastSeq = max(cached?.lastSeq ?? record.lastSeq, result.messages.last?.seq ?? 0, record.lastSeq)
            writer.key("channel")
            EventEncoding.writeChannel(record, into: &writer)
            writer.key("last_seq")
            writer.int(lastSeq)
            writer.key("read_seq")
            writer.int(readSeq)
            writer.key("messages")
            EventEncoding.writeMessages(result.messages, into: &writer)
            writer.key("recovered")
            writer.bool(!epochChanged)
            if request.since != nil {
                writer.key("truncated")
                writer.bool(recovering && result.hasMore)
            }
            Session.writePresence(hub.presence(channel: channel), into: &writer)
        }
    }

    static func writePresence(
        _ presence: (members: [PresenceState.Member], count: Int, countsOnly: Bool), into writer: inout JSONWriter
    ) {
        writer.key("presence")
        EventEncoding.writeMembers(presence.members, into: &writer)
        writer.key("presence_count")
        writer.int(presence.count)
        writer.key("presence_mode")
        writer.string(presence.countsOnly ? "counts" : "list")
    }

    private func leave(channel: String, forget: Bool, ref: JSONValue?) {
        if joined.remove(channel) != nil, let output {
            hub.local.router(for: loop).unsubscribe(output, from: channel)
            let userID = principal.userID
            hub.presenceState.withLockedValue { _ = $0.leave(channel: channel, userID: userID) }
        }
        guard forget else {
            if let ref { output?.send(EventEncoding.okReply(ref: ref)) }
            return
        }
        let userID = principal.userID
        let forgotten = hub.write(.forget(userID: userID, channel: channel), on: loop).map { [hub] _ in
            hub.noteMembership(userID: userID, channel: channel, member: false)
        }
        respondEmpty(ref, forgotten)
    }

    private func markRead(channel: String, seq: Int64, ref: JSONValue?) {
        let userID = principal.userID
        let hub = self.hub
        let loop = self.loop
        let moved = hub.readableChannel(channel, by: principal, on: loop).flatMap { _ in
            hub.write(.markRead(userID: userID, channel: channel, seq: seq), on: loop) { outcome, post in
                guard case .readSeq(let readSeq) = outcome else { return }
                post.events.append(
                    FanoutEvent(
                        target: .users([userID]), frame: EventEncoding.readPositionEvent(channel: channel, readSeq: readSeq)))
            }
        }
        respond(ref, moved) { writer, outcome in
            if case .readSeq(let readSeq) = outcome {
                writer.key("read_seq")
                writer.int(readSeq)
            }
        }
    }

    private func members(channel: String, limit: Int, after: String?, ref: JSONValue?) {
        let hub = self.hub
        let loop = self.loop
        let page = hub.readableChannel(channel, by: principal, on: loop).flatMap { _ in
            hub.read(on: loop) { store in try store.members(channel: channel, afterUserID: after, limit: limit) }
        }
        respond(ref, page) { writer, result in
            writer.key("members")
            writer.beginArray()
            for member in result.members {
                writer.beginObject()
                writer.key("id")
                writer.string(member.id)
                writer.key("name")
                writer.string(member.name)
                writer.key("online")
                writer.bool(hub.isOnline(member.id))
                writer.key("last_seen")
                if let lastSeen = member.lastSeen { writer.int(lastSeen) } else { writer.null() }
                writer.endObject()
            }
            writer.endArray()
            writer.key("has_more")
            writer.bool(result.hasMore)
        }
    }

    private func typing(channel: String, ref: JSONValue?) {
        let principal = self.principal
        let hub = self.hub
        let sent = hub.readableChannel(channel, by: principal, on: loop).map { _ in
            hub.bus.publish([
                FanoutEvent(
                    target: .channel(channel, exceptUser: principal.userID),
                    frame: EventEncoding.typingEvent(channel: channel, userID: principal.userID, name: principal.name))
            ])
        }
        respondEmpty(ref, sent)
    }

    private func react(messageID: String, emoji: String, remove: Bool, ref: JSONValue?) {
        let principal = self.principal
        let hub = self.hub
        let loop = self.loop
        let found = hub.read(on: loop) { store in try store.message(id: messageID) }
        let reacted = found.flatMap { (message: StoredMessage?) -> EventLoopFuture<WriteOutcome> in
            guard let message else { return loop.makeFailedFuture(ProtocolError.notFound("no message '\(messageID)'")) }
            return hub.readableChannel(message.channel, by: principal, on: loop).flatMap { (_: ChannelRecord) in
                hub.write(
                    .react(messageID: messageID, userID: principal.userID, emoji: emoji, remove: remove, at: WallClock.nowMillis()),
                    on: loop
                ) { outcome, post in
                    guard case .reaction(let reaction) = outcome, reaction.changed else { return }
                    post.events.append(
                        FanoutEvent(
                            target: .channel(reaction.channel, exceptUser: nil),
                            frame: EventEncoding.reactionEvent(reaction, userName: principal.name, remove: remove)))
                }
            }
        }
        respondEmpty(ref, reacted)
    }

    private func refresh(token: String, ref: JSONValue?) {
        let checked = authenticator.authenticate(token, on: loop).flatMapThrowing { result -> Principal in
            switch result {
            case .success(let principal): return principal
            case .failure(.storageUnavailable):
                throw ProtocolError(
                    .unavailable, "storage did not answer while checking the token; try again shortly", retryAfterMs: 1_000)
            case .failure(let failure): throw ProtocolError(.unauthorized, "token refused: \(failure.rawValue)")
            }
        }
        checked.assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                self.fail(ref, Hub.protocolError(error))
            case .success(let next):
                guard next.userID == self.principal.userID, !next.isBot else {
                    self.fail(ref, .forbidden("a refreshed token must name the same user"))
                    return
                }
                self.principal = next
                self.output?.credentialsChanged(next)
                guard let ref else { return }
                self.output?.send(
                    EventEncoding.okReply(ref: ref) { writer in
                        writer.key("user")
                        self.writeUser(&writer)
                    })
            }
        }
    }

    // MARK: - Replies

    /// Sends the reply for `future`: `ok:true` with the fields `encode` writes, or the
    /// error. Without `ref`, success is silent and an error goes out as an `error` event.
    private func respond<T>(_ ref: JSONValue?, _ future: EventLoopFuture<T>, encode: @escaping (inout JSONWriter, T) -> Void) {
        future.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let value):
                guard let ref else { return }
                self.output?.send(EventEncoding.okReply(ref: ref) { writer in encode(&writer, value) })
            case .failure(let error):
                self.fail(ref, Hub.protocolError(error))
            }
        }
    }

    private func respondEmpty<T>(_ ref: JSONValue?, _ future: EventLoopFuture<T>) {
        respond(ref, future) { (_: inout JSONWriter, _: T) in }
    }

    private func fail(_ ref: JSONValue?, _ error: ProtocolError) {
        if let ref {
            output?.send(EventEncoding.errorReply(ref: ref, error: error))
        } else {
            output?.send(EventEncoding.errorEvent(error))
        }
    }
}
