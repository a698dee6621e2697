import DugnadProtocol
import NIOCore

/// One authenticated connection's state: what it joined, its rate limits, its principal.
/// Confined to the connection's event loop (not Sendable); every future it waits on is
/// completed on that loop and handled through `assumeIsolated()`.
///
/// This file holds the lifecycle (open, end) and the dispatch of commands; the commands
/// themselves are in the extensions, by family: joining, reading, messaging,
/// announcements, credentials; the replies they send are in `Session+Replies.swift`.
public final class Session {
    public let id: String
    /// Replaced by a `refresh` (`Session+Credentials.swift`).
    public internal(set) var principal: Principal
    let hub: Hub
    let authenticator: Authenticator
    let loop: any EventLoop
    /// Nil once the session ended: nothing more is sent.
    var output: (any ConnectionOutput)?
    /// The channels this connection is subscribed to (and present in).
    var joined: Set<String> = []
    var ended = false
    /// The order in which this connection's commands reach the writer.
    let order: WriteOrder
    /// Rate-limited requests in a row (per connection: the connection that keeps pushing
    /// is the one closed with 4029; the budgets themselves are per user, `Hub.budgets`).
    private var strikes = 0
    private var retainedMemberships = false
    /// Whether the session was recorded (`record(at:)`): a connection refused at its
    /// opening (banned, or storage failed) was not, and ends without a `closeSession`.
    private var recorded = false

    private init(hub: Hub, authenticator: Authenticator, principal: Principal, output: any ConnectionOutput, loop: any EventLoop)
    {
        self.id = Identifiers.sessionID()
        self.hub = hub
        self.authenticator = authenticator
        self.principal = principal
        self.output = output
        self.loop = loop
        self.order = WriteOrder(loop: loop)
    }

    /// Opens a session: reads what the opening needs in one read (`Store.sessionOpening`),
    /// refuses a banned person (the future fails with `AuthFailure.banned`), records the
    /// user and the session, joins the default channels the user lacks and sends the
    /// welcome. Must be called on `loop`, after `Hub.reserveConnection` succeeded for the
    /// user (the session's `end()` gives that slot back).
    ///
    /// A person's standing (ban, roles an admin gave) is applied here, from the same read,
    /// so the caller may authenticate without reading it (`Authenticator.authenticate`'s
    /// `readsStanding`): one read transaction fewer per connection at the morning rush.
    public static func open(
        hub: Hub, authenticator: Authenticator, principal: Principal, output: any ConnectionOutput,
        loop: any EventLoop, server: ServerInfo
    ) -> EventLoopFuture<Session> {
        let session = Session(hub: hub, authenticator: authenticator, principal: principal, output: output, loop: loop)
        let now = WallClock.nowMillis()
        // Registered before the read, so that a ban made while the session opens closes it.
        hub.local.router(for: loop).register(output)
        let userID = principal.userID
        let opened = hub.read(on: loop) { store in
            let opening = try store.sessionOpening(userID: userID, now: now)
            let memberships = opening.memberships.map { membership in
                var titled = membership
                titled.channel = Hub.titled(
                    membership.channel, members: opening.directMembers[membership.channel.name] ?? [], viewer: userID)
                return titled
            }
            return (opening.standing, memberships, opening.announcements)
        }
        .assumeIsolated()
        .flatMapThrowing { standing, memberships, announcements in
            if !principal.isBot { session.principal = try Authenticator.applying(standing, to: principal).get() }
            session.record(at: now)
            return (memberships, announcements)
        }
        .flatMap { memberships, announcements in
            // Only what the credentials held now reach: a private channel joined through a
            // claim that the token no longer lists is not in the welcome, and it ends.
            let principal = session.principal
            let (current, lapsed) = memberships.partitioned {
                ChannelAccess.memberMayRead(
                    $0.channel, membership: $0.kind, principal: principal,
                    adminsReadDirect: hub.configuration.adminsReadDirect)
            }
            for membership in lapsed { hub.endLapsedMembership(userID: userID, channel: membership.channel.name) }
            return hub.ensureDefaultMemberships(current, of: principal, on: loop).map { ($0, announcements) }
        }
        .map { current, announcements in
            hub.retainMemberships(userID: userID, memberships: current)
            session.retainedMemberships = true
            // A direct channel's record here is titled for this user: not the shared copy.
            for membership in current where membership.channel.kind != .direct { hub.cacheChannel(membership.channel) }
            session.sendWelcome(memberships: current, announcements: announcements, server: server)
            // Direct channels are followed from the start: a person written to directly
            // sees it without knowing the channel's name.
            for membership in current where membership.channel.kind == .direct { session.followDirect(membership.channel) }
            // Announcements still current that the user was not in the audience of (a new
            // hire): after the upsert in the writer's order, and after the welcome, so that
            // the `announcement` event never comes before it (the client starts from the
            // welcome), and one the welcome listed is not sent again (nothing to add).
            hub.reachLateRecipient(userID, channel: nil)
            for pending in announcements {
                hub.writer.submit(.markDelivered(announcementID: pending.announcement.id, userIDs: [userID], at: now)) { _, _ in
                    hub.markStatsDirty(pending.announcement.id)
                }
            }
            return session
        }
        // A session whose welcome could not be read (or a banned person's) gives back
        // everything it took.
        opened.whenFailure { _ in session.end() }
        return opened.nonisolated()
    }

    /// Records the user (name and roles as the credentials have them now) and the session,
    /// before any of its writes (the default channels' joins, its commands).
    private func record(at now: Int64) {
        hub.writer.submit(.upsertUser(id: principal.userID, name: principal.name, roles: principal.roleNames, seenAt: now))
        hub.writer.submit(.openSession(id: id, userID: principal.userID, at: now))
        hub.metrics.connections.increment()
        hub.metrics.connectionsOpened.increment()
        recorded = true
    }

    /// The welcome is bounded like any reply: past `maxReplyBytes`, the announcements that
    /// do not fit are left out (the welcome says so) for the client to list.
    private func sendWelcome(memberships: [MembershipRecord], announcements: [UserAnnouncement], server: ServerInfo) {
        let fitted = ReplyBound.fit(announcements, maxBytes: hub.configuration.maxReplyBytes)
        output?.send(
            EventEncoding.welcomeEvent(
                session: id, principal: principal, server: server, maxFrameBytes: hub.configuration.limits.maxFrameBytes,
                memberships: memberships, announcements: fitted.announcements, announcementsHaveMore: fitted.trimmed))
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
        if recorded {
            hub.writer.submit(.closeSession(id: id, userID: userID, at: WallClock.nowMillis()))
            hub.metrics.connections.decrement()
        }
        output = nil
    }

    // MARK: - Commands

    /// Handles one decoded command. Replies (when `ref` is given) or errors go out through
    /// the connection's output.
    public func handle(ref: JSONValue?, command: ClientCommand) {
        guard !ended else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        let budgets = hub.budgets
        let userID = principal.userID
        if let retry = budgets.take(.command, for: userID, now: now) {
            return rateLimited(ref: ref, retryAfterMs: retry)
        }
        switch command {
        case .publish, .edit, .delete:
            if let retry = budgets.take(.publish, for: userID, now: now) { return rateLimited(ref: ref, retryAfterMs: retry) }
        case .announce, .remind:
            if let retry = budgets.take(.announce, for: userID, now: now) { return rateLimited(ref: ref, retryAfterMs: retry) }
        case .search:
            if let retry = budgets.take(.search, for: userID, now: now) { return rateLimited(ref: ref, retryAfterMs: retry) }
        default:
            break
        }
        strikes = 0
        switch command {
        case .auth:
            fail(ref, .badRequest("already authenticated"))
        case .join(let request):
            join(request, ref: ref, ticket: order.ticket())
        case .leave(let channel, let forget):
            leave(channel: channel, forget: forget, ref: ref, ticket: order.ticket())
        case .markRead(let channel, let seq):
            markRead(channel: channel, seq: seq, ref: ref, ticket: order.ticket())
        case .publish(let request):
            publish(request, ref: ref, ticket: order.ticket())
        case .history(let channel, let page):
            history(channel: channel, page: page, ref: ref)
        case .presence(let channel):
            presence(channel: channel, ref: ref)
        case .members(let channel, let limit, let after):
            members(channel: channel, limit: limit, after: after, ref: ref)
        case .typing(let channel):
            typing(channel: channel, ref: ref)
        case .react(let messageID, let emoji, let remove):
            react(messageID: messageID, emoji: emoji, remove: remove, ref: ref, ticket: order.ticket())
        case .edit(let messageID, let body):
            edit(messageID: messageID, body: body, ref: ref, ticket: order.ticket())
        case .delete(let messageID):
            delete(messageID: messageID, ref: ref, ticket: order.ticket())
        case .refresh(let token):
            refresh(token: token, ref: ref)
        case .ping:
            respondOK(ref)
        case .announce(let request):
            announce(request, ref: ref, ticket: order.ticket())
        case .ack(let announcementID, let kind):
            acknowledge(announcementID, kind: kind, ref: ref, ticket: order.ticket())
        case .announcementStats(let announcementID):
            announcementStats(announcementID, ref: ref)
        case .remind(let announcementID):
            remind(announcementID, ref: ref, ticket: order.ticket())
        case .announcements(let query):
            announcements(query, ref: ref)
        case .channels(let query):
            channels(query, ref: ref)
        case .describe(let channel, let description):
            describe(channel, description: description, ref: ref)
        case .search(let request):
            search(request, ref: ref)
        case .direct(let request):
            direct(request, ref: ref)
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
}

@available(*, unavailable)
extension Session: Sendable {}

extension Array {
    /// The elements for which `belongs` holds, and the others, each in order.
    func partitioned(_ belongs: (Element) -> Bool) -> ([Element], [Element]) {
        var yes: [Element] = []
        var no: [Element] = []
        for element in self {
            if belongs(element) { yes.append(element) } else { no.append(element) }
        }
        return (yes, no)
    }
}
