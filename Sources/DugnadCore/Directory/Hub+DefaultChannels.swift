import DugnadProtocol
import NIOCore

/// Default channels (contract §9, "People"): every person is a member of each from their
/// first connection, so that nobody signs in to an empty sidebar.
///
/// Cost at the morning rush: the memberships are already read for the welcome, so a user
/// who has them all costs nothing more; only a user who lacks one (a first connection, or
/// a default channel added since) costs one `join` write per missing channel, once.
extension Hub {
    /// Who the audit log names for channels the hub made on its own.
    public static let hubActor = "hub"

    /// Creates the default channels that do not exist yet: public, titled by their name,
    /// audited as the hub's. Called once at start, before any connection is taken. Fails
    /// (and the hub does not start) when a default channel exists as a private channel:
    /// everyone would be made a member of a channel meant for a few.
    public func createDefaultChannels() async throws {
        let loop = group.next()
        for name in configuration.defaultChannels {
            guard ChannelName.isValid(name) else {
                throw ProtocolError.badRequest("default channel '\(name)' must match ^[a-z0-9][a-z0-9._-]{0,63}$")
            }
            let now = WallClock.nowMillis()
            let entry = AuditEntry.make(
                actor: Self.hubActor, .channelCreated, target: name,
                detail: [("kind", .string("public")), ("title", .string(name)), ("default", .bool(true))], at: now)
            let outcome = try await write(
                .audited(.createChannel(name: name, kind: .public, title: name, createdAt: now), entry), on: loop
            ).get()
            guard case .channel(let record, _) = outcome else { throw ProtocolError(.internal, "unexpected outcome") }
            guard record.kind != .private else {
                throw ProtocolError(
                    .conflict,
                    "default channel '\(name)' exists as a private channel; choose another name or make it public")
            }
            cacheChannel(record)
        }
    }

    /// The user's memberships with every default channel among them: those missing are
    /// joined now (and the result lists them as the store returned them). Bots are keys,
    /// not people: they get none. A join that fails leaves that channel out of this
    /// welcome (logged); the next connection tries again.
    func ensureDefaultMemberships(
        _ memberships: [MembershipRecord], of principal: Principal, on loop: any EventLoop
    ) -> EventLoopFuture<[MembershipRecord]> {
        guard !principal.isBot else { return loop.makeSucceededFuture(memberships) }
        let missing = configuration.defaultChannels.filter { name in
            !memberships.contains { $0.channel.name == name }
        }
        guard !missing.isEmpty else { return loop.makeSucceededFuture(memberships) }
        let userID = principal.userID
        let now = WallClock.nowMillis()
        let joins = missing.map { name in write(.join(userID: userID, channel: name, at: now), on: loop) }
        return EventLoopFuture.whenAllComplete(joins, on: loop).map { [self] results in
            var all = memberships
            for (name, result) in zip(missing, results) {
                switch result {
                case .success(.membership(let channel, let readSeq, let created)):
                    all.append(MembershipRecord(channel: channel, readSeq: readSeq, kind: .joined))
                    // A new member of a channel gets the announcements to it still current,
                    // as after a `join` (sent after the welcome: this runs before it is
                    // written, and the writer delivers after its commit).
                    if created { reachLateRecipient(userID, channel: name) }
                case .success, .failure:
                    logger.warning(
                        "could not make a user a member of a default channel",
                        metadata: ["channel": "\(name)", "result": "\(result)"])
                }
            }
            return all.sorted { $0.channel.name < $1.channel.name }
        }
    }
}
