import DugnadProtocol
import NIOCore

/// Announcements (section 5): post to a fixed audience, deliver to whoever is online now
/// and to everyone else in their next welcome, record receipts, and keep leaders' figures
/// live. Shared by the WebSocket session and the HTTP API.
extension Hub {
    /// Posts an announcement. Leaders, admins and bots with the `announce` scope only.
    public func announce(
        _ request: AnnounceRequest, by principal: Principal, on loop: any EventLoop, ticket: WriteTicket? = nil
    ) -> EventLoopFuture<(announcement: AnnouncementRecord, duplicate: Bool)> {
        guard principal.isLeader || principal.isAdmin || principal.hasScope("announce") else {
            let who = principal.isBot ? "this key lacks the 'announce' scope" : "only leaders can announce"
            return loop.makeFailedFuture(ProtocolError.forbidden(who))
        }
        if let until = request.until {
            let now = WallClock.nowMillis()
            guard until > now, until <= now + Self.maxUntilMillis else {
                return loop.makeFailedFuture(
                    ProtocolError.badRequest("'until' must be a time (ms since the epoch) in the next 366 days"))
            }
        }
        return checkAudience(request.audience, by: principal, on: loop).flatMap { [self] () -> EventLoopFuture<WriteOutcome> in
            let now = WallClock.nowMillis()
            let new = NewAnnouncement(
                id: Identifiers.announcementID(now: now), fromID: principal.userID, fromName: principal.name,
                title: request.title, body: request.body, priority: request.priority, requireAck: request.requireAck,
                audience: request.audience, clientID: request.clientID, ts: now, until: request.until)
            // What is stored must fit in one frame as every recipient gets it (a 16 KiB body
            // of control characters is six times that once escaped). Not a hot path: always
            // encoded once to check.
            let frameBytes = EventEncoding.announcementEvent(
                AnnouncementRecord(
                    id: new.id, fromID: new.fromID, fromName: new.fromName, title: new.title, body: new.body,
                    priority: new.priority, requireAck: new.requireAck, audience: new.audience,
                    clientID: new.clientID, ts: now, audienceCount: Int(Int32.max), until: new.until)
            ).readableBytes
            if let tooLarge = frameRefusal(for: "announcement", bytes: frameBytes) {
                return loop.makeFailedFuture(tooLarge)
            }
            let entry = AuditEntry.make(
                actor: principal.userID, .announcementPosted, target: new.id, detail: [("title", .string(new.title))],
                at: now)
            return write(.audited(.announce(new), entry), on: loop, ticket: ticket) { [self] outcome, post in
                guard case .announcement(let record, let audience, duplicate: false) = outcome else { return }
                send(record, to: audience, post: &post)
            }
        }.flatMapThrowing { outcome in
            guard case .announcement(let record, _, let duplicate) = outcome else {
                throw ProtocolError(.internal, "unexpected store outcome")
            }
            return (record, duplicate)
        }
    }

    /// How far ahead `until` may lie: a year and a day (an annual notice, a leap year).
    public static let maxUntilMillis: Int64 = 366 * 86_400_000

    /// Adds `userID` to the audience of every announcement still current that it would
    /// have been in at posting: to everyone (`channel` nil: on every session's opening, so
    /// a new hire's first sign-in finds them), or to `channel` (just joined). Those the
    /// user's connections on this node are sent now; the next welcome lists them anyway.
    func reachLateRecipient(_ userID: String, channel: String?) {
        writer.submit(.reachLateRecipient(userID: userID, channel: channel, at: WallClock.nowMillis())) {
            [self] result, post in
            guard case .success(.reached(let records)) = result else { return }
            for record in records {
                send(record, to: [userID], post: &post)
                markStatsDirty(record.id)
            }
        }
    }

    /// An announcement goes only to channels its author reaches: admins any channel; a
    /// leader every public and announce channel and the private ones it may read (member,
    /// with access now); a key the public and announce ones and the private ones it was
    /// made for. A channel that does not exist
    /// is refused with the same words as one the author does not reach, so that the
    /// refusal says nothing of private channels.
    func checkAudience(_ audience: Audience, by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<Void> {
        guard case .channels(let names) = audience else { return loop.makeSucceededVoidFuture() }
        let checks = names.map { name -> EventLoopFuture<Void> in
            if principal.isBot || principal.isAdmin {
                return channel(named: name, on: loop).flatMapThrowing { record in
                    guard let record else {
                        throw principal.isBot ? ChannelAccess.notReached(name) : ProtocolError.notFound("no channel '\(name)'")
                    }
                    if principal.isBot, record.kind == .direct { throw ChannelAccess.notReached(name) }
                    if case .bot(_, _, let keyChannels) = principal.kind, record.kind == .private, !principal.isAdmin,
                        !keyChannels.contains(name)
                    {
                        throw ChannelAccess.notReached(name)
                    }
                    if record.kind == .direct { throw Self.noAnnouncementsInDirect }
                }
            }
            return channel(named: name, on: loop).flatMap { [self] record in
                guard let record else { return loop.makeFailedFuture(ChannelAccess.notReadable(name)) }
                switch record.kind {
                case .public, .announce: return loop.makeSucceededVoidFuture()
                case .private: return readableChannel(name, by: principal, on: loop).map { _ in }
                case .direct:
                    // Its people learn that announcements do not go there; others, nothing.
                    return readableChannel(name, by: principal, on: loop).flatMapThrowing { _ in
                        throw Self.noAnnouncementsInDirect
                    }
                }
            }
        }
        return EventLoopFuture.andAllSucceed(checks, on: loop)
    }

    /// An announcement reaches a team or everyone; a direct conversation is not an audience.
    static let noAnnouncementsInDirect = ProtocolError.badRequest("announcements do not go to direct channels")

    /// Records a read or an acknowledgement (the first time; repeating is harmless).
    public func acknowledge(
        _ announcementID: String, kind: AckKind, by principal: Principal, on loop: any EventLoop,
        ticket: WriteTicket? = nil
    ) -> EventLoopFuture<Void> {
        write(
            .acknowledge(announcementID: announcementID, userID: principal.userID, kind: kind, at: WallClock.nowMillis()),
            on: loop, ticket: ticket
        ) {
            [self] outcome, post in
            guard case .receipt(changed: true) = outcome else { return }
            markStatsDirty(announcementID)
            // Every device in step: the user's connections (on this node) clear the banner.
            post.events.append(
                FanoutEvent(
                    target: .users([principal.userID]),
                    frame: EventEncoding.announcementReceiptEvent(id: announcementID, kind: kind)))
        }.map { _ in }
    }

    /// The figures of an announcement, for its author, leaders and admins; a user who asks
    /// also receives live `announcement_stats` events for it from then on.
    public func announcementStats(_ announcementID: String, by principal: Principal, on loop: any EventLoop)
        -> EventLoopFuture<(announcement: AnnouncementRecord, stats: AnnouncementStats)>
    {
        read(on: loop) { store -> (AnnouncementRecord, AnnouncementStats)? in
            guard let record = try store.announcement(id: announcementID),
                let stats = try store.announcementStats(id: announcementID)
            else { return nil }
            return (record, stats)
        }.flatMapThrowing { [self] found in
            guard let (record, stats) = found else { throw ProtocolError.notFound("no announcement '\(announcementID)'") }
            try checkReach(record, by: principal)
            if !principal.isBot {
                announcementLive.withLockedValue { $0.watch(announcementID, by: principal.userID) }
            }
            return (record, stats)
        }
    }

    /// Sends the announcement again to every user of its audience who has not acknowledged
    /// it (or not read it, where no ack is required). Online ones get it now; the others
    /// find it in their next welcome. Returns how many users that is.
    public func remind(
        _ announcementID: String, by principal: Principal, on loop: any EventLoop, ticket: WriteTicket? = nil
    ) -> EventLoopFuture<Int> {
        read(on: loop) { store in try store.announcement(id: announcementID) }.flatMap { [self] record in
            guard let record else { return loop.makeFailedFuture(ProtocolError.notFound("no announcement '\(announcementID)'")) }
            do {
                try checkReach(record, by: principal)
            } catch {
                return loop.makeFailedFuture(error)
            }
            let op = WriteOp.remind(
                announcementID: announcementID, byUserID: principal.userID, at: WallClock.nowMillis(),
                notWithinMillis: configuration.remindIntervalMillis)
            return write(op, on: loop, ticket: ticket) {
                [self] outcome, post in
                guard case .recipients(let users) = outcome else { return }
                send(record, to: users, post: &post)
            }.flatMapThrowing { outcome in
                guard case .recipients(let users) = outcome else { throw ProtocolError(.internal, "unexpected store outcome") }
                return users.count
            }
        }
    }

    /// Author, leaders and admins (and keys with `admin`) may see figures and remind.
    func checkReach(_ record: AnnouncementRecord, by principal: Principal) throws(ProtocolError) {
        guard record.fromID == principal.userID || principal.isLeader || principal.isAdmin else {
            throw .forbidden("only the author, leaders and admins can see an announcement's reach")
        }
    }

    /// Queues the event for the online users among `users` (one frame for all of them) and
    /// records the delivery. Runs on the writer's queue, right after a commit.
    func send(_ record: AnnouncementRecord, to users: [String], post: inout BatchingWriter.PostCommit) {
        let online = presenceState.withLockedValue { state in users.filter { state.isOnline($0) } }
        guard !online.isEmpty else { return }
        post.events.append(FanoutEvent(target: .users(online), frame: EventEncoding.announcementEvent(record)))
        writer.submit(.markDelivered(announcementID: record.id, userIDs: online, at: WallClock.nowMillis())) { [self] result, _ in
            if case .success(.count(let count)) = result, count == 0 { return }
            markStatsDirty(record.id)
        }
    }

    func markStatsDirty(_ announcementID: String) {
        announcementLive.withLockedValue { $0.markDirty(announcementID) }
    }

    /// Sends one `announcement_stats` event per changed announcement to its author and
    /// watchers on this node, and tells the other nodes which figures changed here (each
    /// node recomputes for its own connections, so stats events never cross nodes).
    func flushAnnouncementStats() {
        let (dirty, forward) = announcementLive.withLockedValue { $0.takeDirty() }
        if !forward.isEmpty { bus.publishStatsChanged(forward) }
        guard !dirty.isEmpty else { return }
        let store = self.store
        let local = self.local
        _ = readPool.runIfActive(eventLoop: group.next()) {
            var events: [FanoutEvent] = []
            for (id, watchers) in dirty {
                guard let record = try store.announcement(id: id), let stats = try store.announcementStats(id: id) else {
                    continue
                }
                var recipients = watchers
                recipients.insert(record.fromID)
                events.append(
                    FanoutEvent(target: .users(recipients.sorted()), frame: EventEncoding.statsEvent(id: id, stats: stats)))
            }
            local.publish(events)
        }
    }

    /// Re-sends urgent, ack-requiring announcements to online users who have not acknowledged.
    func resendUrgentAnnouncements() {
        // Each node re-sends to its own connections' users (the store records each re-send
        // once, so a user connected to two nodes is not sent it twice).
        let online = presenceState.withLockedValue { $0.localOnlineUserIDs }
        guard !online.isEmpty else { return }
        let store = self.store
        writer.submit(
            .dueUrgentResends(
                onlineUserIDs: online, now: WallClock.nowMillis(), intervalMillis: configuration.urgentResendMillis,
                maxResends: configuration.urgentMaxResends)
        ) { result, post in
            guard case .success(.resends(let due)) = result else { return }
            for (id, users) in due.sorted(by: { $0.key < $1.key }) {
                guard let record = try? store.announcement(id: id) else { continue }
                post.events.append(FanoutEvent(target: .users(users), frame: EventEncoding.announcementEvent(record)))
            }
        }
    }

    /// Closes the connections of keys revoked since the last check with 4500.
    func closeRevokedKeys() {
        let since = announcementLive.withLockedValue { state -> Int64 in
            let since = state.revocationsCheckedAt
            // Overlap the windows by a second: a revocation committed by another process
            // just before the previous check must not fall between two checks.
            state.revocationsCheckedAt = WallClock.nowMillis() - 1_000
            return since
        }
        let store = self.store
        let local = self.local
        _ = readPool.runIfActive(eventLoop: group.next()) {
            let revoked = try store.revokedAPIKeyIDs(since: since)
            guard !revoked.isEmpty else { return }
            local.forEachRouter { router in
                for keyID in revoked {
                    for sink in router.sinks(ofUser: "bot:" + keyID) {
                        sink.close(code: .revoked, reason: AuthFailure.keyRevoked.rawValue)
                    }
                }
            }
        }
    }
}

// MARK: - Listing

extension Hub {
    /// One page of `announcements` (see `AnnouncementsQuery`).
    public enum AnnouncementPage: Sendable {
        /// Received: each with the caller's own receipt.
        case received([UserAnnouncement], hasMore: Bool)
        /// Posted: each with its figures.
        case posted([(AnnouncementRecord, AnnouncementStats)], hasMore: Bool)
    }

    /// What the caller may list: what it received (anyone), what it posted (leaders,
    /// admins, keys with `announce`), or everyone's (admins, without `author`).
    public func announcements(_ query: AnnouncementsQuery, by principal: Principal, on loop: any EventLoop)
        -> EventLoopFuture<AnnouncementPage>
    {
        let userID = principal.userID
        let maxBytes = configuration.maxReplyBytes
        if query.received {
            return read(on: loop) { store in
                let page = try store.receivedAnnouncements(userID: userID, beforeID: query.before, limit: query.limit)
                let fitted = ReplyBound.fit(page.announcements, maxBytes: maxBytes)
                return .received(fitted.announcements, hasMore: page.hasMore || fitted.trimmed)
            }
        }
        guard principal.isLeader || principal.isAdmin || principal.hasScope("announce") else {
            return loop.makeFailedFuture(
                ProtocolError.forbidden("only leaders and admins post announcements; ask with \"received\": true"))
        }
        let author = principal.isAdmin && !query.authorIsMe ? nil : userID
        return read(on: loop) { store in
            let page = try store.announcements(authorID: author, beforeID: query.before, limit: query.limit)
            let withStats = try page.announcements.map { record in
                (
                    record,
                    try store.announcementStats(id: record.id)
                        ?? AnnouncementStats(audience: record.audienceCount, delivered: 0, read: 0, acked: 0)
                )
            }
            let fitted = ReplyBound.fit(withStats, maxBytes: maxBytes)
            return .posted(fitted.posted, hasMore: page.hasMore || fitted.trimmed)
        }
    }
}
