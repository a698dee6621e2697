import DugnadProtocol
import NIOCore

/// Who makes channels: admins explicitly (audited), and people's `join` of a public name
/// that does not exist yet, within the rules against squatting and a daily quota.
extension Hub {
    /// Creates a channel (admin path: HTTP and in-process callers; the CLI writes the same
    /// audited op). Conflict when the name is taken.
    /// With a `description`, it is written right after (the audit entry of the creation
    /// holds it).
    public func createChannel(
        name: String, kind: ChannelKind, title: String, description: String? = nil,
        by actor: String = AuditEntry.cliActor
    ) async throws -> ChannelRecord {
        guard kind != .direct, !DirectChannelName.isReserved(name) else {
            throw ProtocolError.badRequest(
                "direct channels are made with 'direct', never by name ('dm-' and 32 hex digits is their form)")
        }
        let now = WallClock.nowMillis()
        var detail: [(String, JSONValue)] = [("kind", .string(kind.rawValue)), ("title", .string(title))]
        if let description { detail.append(("description", .string(description))) }
        let entry = AuditEntry.make(actor: actor, .channelCreated, target: name, detail: detail, at: now)
        let outcome = try await runAudited(.createChannel(name: name, kind: kind, title: title, createdAt: now), entry)
        guard case .channel(var record, let created) = outcome else { throw StoreError(.unavailable, "unexpected outcome") }
        guard created else { throw ProtocolError(.conflict, "channel '\(name)' exists") }
        if let description {
            let described = try await write(.describeChannel(name: name, description: description), on: group.next()).get()
            if case .channel(let withDescription, _) = described { record = withDescription }
        }
        cacheChannel(record)
        return record
    }

    /// A `join` of a name that does not exist: a public channel is made for a person when
    /// the deployment allows it, unless the name is in the joiner's `channels` claim (it is
    /// meant to be private), the joiner is an admin (admins create explicitly), or the name
    /// is reserved. Each person may make `channelCreationsPerDay` in 24 hours. Refusals
    /// answer exactly as a private channel the joiner may not join does.
    func createChannelOnJoin(_ name: String, by principal: Principal, on loop: any EventLoop)
        -> EventLoopFuture<ChannelRecord>
    {
        if principal.isBot { return loop.makeFailedFuture(ChannelAccess.notReached(name)) }
        if principal.isAdmin {
            return loop.makeFailedFuture(
                ProtocolError.notFound(
                    "no channel '\(name)': admins create channels explicitly (POST /api/v1/channels or dugnad channels create)"))
        }
        guard configuration.autoCreatePublicChannels, !principal.channels.contains(name),
            !configuration.reservedChannels.contains(name), !DirectChannelName.isReserved(name)
        else { return loop.makeFailedFuture(ChannelAccess.notJoinable(name)) }
        let userID = principal.userID
        if let retry = budgets.take(.channelCreation, for: userID, now: NIODeadline.now().uptimeNanoseconds) {
            return loop.makeFailedFuture(
                ProtocolError(.rateLimited, "you are creating channels too fast", retryAfterMs: retry))
        }
        let limit = configuration.channelCreationsPerDay
        let now = WallClock.nowMillis()
        return read(on: loop) { store -> Int in try store.channelsCreated(by: userID, since: now - 86_400_000) }
            .flatMap { [self] (created: Int) -> EventLoopFuture<WriteOutcome> in
                guard created < limit else {
                    return loop.makeFailedFuture(
                        ProtocolError(
                            .rateLimited, "you may create \(limit) channels a day; ask an admin for more",
                            retryAfterMs: 3_600_000))
                }
                return write(
                    .createChannel(name: name, kind: .public, title: name, createdAt: now, createdBy: userID), on: loop)
            }
            .flatMapThrowing { [self] (outcome: WriteOutcome) -> ChannelRecord in
                guard case .channel(let record, _) = outcome else { throw ProtocolError(.internal, "unexpected outcome") }
                cacheChannel(record)
                return record
            }
    }
}
