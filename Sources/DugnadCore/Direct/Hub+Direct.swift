import DugnadProtocol
import NIOCore

/// A direct channel as one of its members sees it: titled with the other members' names.
public struct DirectChannel: Sendable, Equatable {
    public var channel: ChannelRecord
    /// Every member, the caller included, by id.
    public var members: [UserRecord]
    /// False when the channel existed already.
    public var created: Bool
}

/// Direct channels (contract §9, `direct`): the one private conversation of a set of
/// people, found again by the set. Its members are granted when it is made and are fixed:
/// nobody joins, leaves for good, is granted in or removed (`ChannelAccess`).
///
/// A person who is written to directly needs no channel name: when the channel is made,
/// every connection of its members on this node is subscribed to it and gets a
/// `direct_channel` event before anything can be published in it (the subscription is
/// queued on each loop ahead of the creator's reply). Other nodes do the same when they
/// read the audit entry (within `governanceCheckMillis`); and every later connection of a
/// member is subscribed at its welcome.
extension Hub {
    var adminsReadDirect: Bool { configuration.adminsReadDirect }

    /// Opens (makes, or finds) the direct channel of the caller and `request.users`. The
    /// others must be known to the hub (signed in once, or imported by an admin): a
    /// conversation with an id nobody holds would wait for a stranger who could later
    /// take that id. The caller is not among the others. Keys are not people: refused.
    public func openDirect(_ request: DirectRequest, by principal: Principal) async throws -> DirectChannel {
        guard !principal.isBot else {
            throw ProtocolError.forbidden("direct channels are between people; an API key cannot open one")
        }
        guard !request.users.contains(principal.userID) else {
            throw ProtocolError.badRequest(
                "'users' names the other people: leave out your own id (a direct channel needs someone else)")
        }
        let others = try await read { store in try request.users.map { id in (id, try store.user(id: id)) } }
        if let unknown = others.first(where: { $0.1 == nil || $0.0.hasPrefix("bot:") }) {
            throw ProtocolError.notFound("no person '\(unknown.0)' is known to the hub (they must have signed in once)")
        }
        let caller = UserRecord(id: principal.userID, name: principal.name, roles: principal.roleNames, lastSeen: nil)
        let members = [caller] + others.compactMap(\.1)
        let ids = members.map(\.id).sorted()
        let name = DirectChannelName.of(members: ids)
        let title = String(members.map(\.name).sorted().joined(separator: ", ").prefix(Limits.maxTitleCharacters))
        let now = WallClock.nowMillis()
        let entry = AuditEntry.make(
            actor: principal.userID, .channelCreated, target: name,
            detail: [("kind", .string(ChannelKind.direct.rawValue)), ("members", .array(ids.map(JSONValue.string)))],
            at: now)
        // Not `runAudited`: this node delivers the channel itself, with the names it holds.
        auditFollower.withLockedValue { $0?.noteApplied(entry) }
        let outcome = try await write(
            .audited(.createDirect(name: name, title: title, members: ids, at: now), entry), on: group.next()
        ).get()
        guard case .channel(let record, let created) = outcome else { throw ProtocolError(.internal, "unexpected outcome") }
        cacheChannel(record)
        let people = members.map { (id: $0.id, name: $0.name) }
        if created {
            for member in ids { noteMembership(userID: member, channel: name, kind: .granted) }
            deliverDirect(record, members: people)
        }
        var seen = record
        seen.title = DirectChannelName.title(members: people, viewer: principal.userID)
        return DirectChannel(channel: seen, members: members, created: created)
    }

    /// Subscribes every connection of the members on this node to the new channel and
    /// tells each (`direct_channel`). Queued on each loop in order with its events, so a
    /// message published after this call reaches the subscriptions.
    func deliverDirect(_ record: ChannelRecord, members: [(id: String, name: String)]) {
        let views: [(String, ChannelRecord)] = members.map { member in
            var seen = record
            seen.title = DirectChannelName.title(members: members, viewer: member.id)
            return (member.id, seen)
        }
        local.forEachRouter { router in
            for (userID, seen) in views {
                for sink in router.sinks(ofUser: userID) {
                    (sink as? any ConnectionOutput)?.session?.directOpened(seen, members: members)
                }
            }
        }
    }

    /// A direct channel another node (or the CLI) made: read it and its members, then
    /// deliver it here.
    func applyDirectCreated(_ name: String) {
        forgetChannel(name)
        read(on: group.next()) { store -> (ChannelRecord, [UserRecord])? in
            guard let record = try store.channel(named: name), record.kind == .direct else { return nil }
            return (record, try store.members(channel: name, afterUserID: nil, limit: DirectRequest.maxOthers + 1).members)
        }.whenComplete { [self] result in
            switch result {
            case .success(let found?):
                for member in found.1 { noteMembership(userID: member.id, channel: name, kind: .granted) }
                deliverDirect(found.0, members: found.1.map { (id: $0.id, name: $0.name) })
            case .success(nil):
                break
            case .failure(let error):
                logger.debug("could not read a new direct channel: \(error)")
            }
        }
    }

    /// The channel with the title its viewer sees (the other members' names), read from
    /// the store; any other kind as it is.
    static func titledForViewer(_ record: ChannelRecord, viewer: String, store: any Store) throws -> ChannelRecord {
        guard record.kind == .direct else { return record }
        let members = try store.members(channel: record.name, afterUserID: nil, limit: SessionOpening.directMembersLimit)
        return titled(record, members: members.members, viewer: viewer)
    }

    /// A direct channel titled for `viewer` from its `members` (all of them); any other
    /// kind as it is.
    static func titled(_ record: ChannelRecord, members: [UserRecord], viewer: String) -> ChannelRecord {
        guard record.kind == .direct else { return record }
        var seen = record
        seen.title = DirectChannelName.title(members: members.map { (id: $0.id, name: $0.name) }, viewer: viewer)
        return seen
    }

    /// Refuses a change of a direct channel's members (an admin's grant or removal): they
    /// are fixed when it is made.
    func refuseIfDirect(_ channel: String) async throws {
        if try await read({ store in try store.channel(named: channel) })?.kind == .direct {
            throw ProtocolError.forbidden("'\(channel)' is a direct channel: its members are fixed")
        }
    }
}
