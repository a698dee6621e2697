import DugnadProtocol
import NIOCore

/// Full-text search (contract §9, "People"): the same for the `search` command and
/// `GET /api/v1/search`.
extension Hub {
    /// Messages holding every word of `request.text`, best first, from the channels the
    /// principal may read now (`ChannelAccess.maySearch`, decided from the memberships as
    /// stored at this moment and the credentials held now), bounded in bytes like every
    /// reply (`hasMore` then says more matched).
    ///
    /// A `channel` the caller may not read, or that does not exist, gets the one answer
    /// for both (`forbidden`), as `history` does; a query without words, `bad_request`.
    public func search(_ request: SearchRequest, by principal: Principal, on loop: any EventLoop)
        -> EventLoopFuture<(hits: [SearchHit], hasMore: Bool)>
    {
        let terms: SearchTerms
        do {
            terms = try SearchTerms.parse(request.text)
        } catch {
            return loop.makeFailedFuture(error)
        }
        let maxBytes = configuration.maxReplyBytes
        let adminsReadDirect = adminsReadDirect
        return read(on: loop) { store -> (hits: [SearchHit], hasMore: Bool) in
            let channels = try Self.searchableChannels(
                request.channel, by: principal, adminsReadDirect: adminsReadDirect, in: store)
            guard !channels.isEmpty else { return ([], false) }
            let found = try store.searchMessages(
                MessageSearch(
                    terms: terms, channels: channels, fromID: request.fromID, beforeTS: request.before,
                    limit: request.limit))
            let hits = found.messages.map { SearchHit(message: $0, excerpt: SearchExcerpt.make(body: $0.body, terms: terms)) }
            let fitted = ReplyBound.fit(hits, maxBytes: maxBytes)
            return (fitted.hits, found.hasMore || fitted.trimmed)
        }
    }

    /// The names of the channels the search reads: the one asked for, when the principal
    /// may read it; otherwise every channel it may read.
    private static func searchableChannels(
        _ only: String?, by principal: Principal, adminsReadDirect: Bool, in store: any Store
    ) throws
        -> [String]
    {
        if let only {
            let membership = principal.isBot ? nil : try store.membershipKind(userID: principal.userID, channel: only)
            guard let record = try store.channel(named: only),
                ChannelAccess.maySearch(
                    record, membership: membership, principal: principal, adminsReadDirect: adminsReadDirect)
            else {
                throw principal.isBot ? ChannelAccess.notReached(only) : ChannelAccess.notReadable(only)
            }
            return [only]
        }
        var memberships: [String: MembershipKind] = [:]
        if !principal.isBot {
            for membership in try store.memberships(userID: principal.userID) {
                memberships[membership.channel.name] = membership.kind
            }
        }
        return try store.allChannels().filter { channel in
            ChannelAccess.maySearch(
                channel, membership: memberships[channel.name], principal: principal, adminsReadDirect: adminsReadDirect)
        }.map(\.name)
    }
}
