import DugnadProtocol
import NIOCore

/// The channel directory (contract §9, "People"): the channels a caller may find, a page
/// at a time, and their descriptions, which admins and a channel's creator write.
extension Hub {
    /// A page of the channels the principal may see (`ChannelAccess.isListed`), by name,
    /// after `query.after`, whose name or title holds `query.text` (case-folded). Private
    /// channels the caller may not see are skipped, not counted: the store is read page
    /// after page until this one is full or the directory ends.
    public func channelDirectory(
        _ query: DirectoryQuery, by principal: Principal, claimsCount: Bool = false, on loop: any EventLoop
    ) -> EventLoopFuture<(entries: [DirectoryEntry], hasMore: Bool)> {
        let folded = query.text.map(ChannelSearchKey.fold)
        let userID = principal.userID
        let adminsReadDirect = self.adminsReadDirect
        return read(on: loop) { store -> (entries: [DirectoryEntry], hasMore: Bool) in
            var found: [DirectoryEntry] = []
            var cursor = query.after
            while true {
                let page = try store.channelDirectory(
                    DirectoryPageRequest(userID: userID, folded: folded, afterName: cursor, limit: query.limit))
                for entry in page.entries
                where ChannelAccess.isListed(
                    entry.channel, membership: entry.membership, principal: principal, claimsCount: claimsCount,
                    adminsReadDirect: adminsReadDirect)
                {
                    if found.count == query.limit { return (found, true) }
                    var entry = entry
                    entry.channel = try Self.titledForViewer(entry.channel, viewer: userID, store: store)
                    found.append(entry)
                }
                guard page.hasMore, let last = page.entries.last else { return (found, false) }
                cursor = last.channel.name
            }
        }
    }

    /// Sets or removes a channel's description: admins may for any channel, people for
    /// the channels their `join` created. Audited (`channel.changed`), which also makes
    /// every node drop its cached copy of the channel.
    ///
    /// One answer (`forbidden`) for a channel that does not exist and one that is not the
    /// caller's, as everywhere: only an admin learns that a name is free.
    public func describeChannel(_ name: String, description: String?, by principal: Principal) async throws
        -> ChannelRecord
    {
        let record = try await read { store in try store.channel(named: name) }
        let isCreator = !principal.isBot && record?.createdBy == principal.userID
        guard record?.kind != .direct else {
            throw ProtocolError.forbidden("'\(name)' is a direct channel: it has no description")
        }
        guard principal.isAdmin || isCreator else {
            throw ProtocolError.forbidden("only admins and the channel's creator may describe '\(name)'")
        }
        guard record != nil else { throw ProtocolError.notFound("no channel '\(name)'") }
        let entry = AuditEntry.make(
            actor: principal.userID, .channelChanged, target: name,
            detail: [("description", description.map(JSONValue.string) ?? .null)], at: WallClock.nowMillis())
        let outcome = try await runAudited(.describeChannel(name: name, description: description), entry)
        guard case .channel(let described, _) = outcome else { throw ProtocolError(.internal, "unexpected outcome") }
        return described
    }
}
