import DugnadProtocol
import NIOCore

/// Permission rules of section 7 and 8, shared by the WebSocket session and the HTTP API.
extension Hub {
    /// Resolves a channel the principal may read: users must be members (a `channels`
    /// claim alone is not enough), bots need `read` (or a write scope) and reach public and
    /// announce channels plus the private ones their key names. A private channel the
    /// caller may not see is `forbidden`, never `not_found`.
    public func readableChannel(_ name: String, by principal: Principal, on loop: any EventLoop)
        -> EventLoopFuture<ChannelRecord>
    {
        if case .bot(_, _, let keyChannels) = principal.kind {
            return channel(named: name, on: loop).flatMapThrowing { record in
                guard let record else { throw ProtocolError.notFound("no channel '\(name)'") }
                guard record.kind != .private || keyChannels.contains(name) || principal.isAdmin else {
                    throw ProtocolError.forbidden("this key does not reach '\(name)'")
                }
                return record
            }
        }
        // Membership first, with one answer for every non-member: an outsider learns
        // nothing, not even whether a private channel of that name exists.
        return isMember(userID: principal.userID, channel: name, on: loop).flatMap { [self] member in
            guard member else {
                return loop.makeFailedFuture(ProtocolError.forbidden("you are not a member of '\(name)'; join it first"))
            }
            return channel(named: name, on: loop).flatMapThrowing { record in
                guard let record else { throw ProtocolError.forbidden("you are not a member of '\(name)'; join it first") }
                return record
            }
        }
    }

    /// Whether the principal may post in the channel once it can read it.
    public func checkPost(_ record: ChannelRecord, by principal: Principal) throws(ProtocolError) {
        if principal.isBot && !principal.hasScope("publish") && !principal.isAdmin {
            throw .forbidden("this key lacks the 'publish' scope")
        }
        if record.kind == .announce && !(principal.isLeader || principal.isBot) {
            throw .forbidden("only leaders can post in '\(record.name)'")
        }
    }

    /// Whether the principal may join (become a member of) a channel.
    public func checkJoin(_ record: ChannelRecord, by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<Void> {
        guard record.kind == .private else { return loop.makeSucceededVoidFuture() }
        if principal.channels.contains(record.name) || principal.isAdmin {
            return loop.makeSucceededVoidFuture()
        }
        return isMember(userID: principal.userID, channel: record.name, on: loop).flatMapThrowing { member in
            guard member else { throw ProtocolError.forbidden("you may not join '\(record.name)'") }
        }
    }

    /// Turns any failure into the error a client sees.
    public static func protocolError(_ error: any Error) -> ProtocolError {
        switch error {
        case let error as ProtocolError:
            return error
        case let error as StoreError:
            switch error.kind {
            case .notFound: return ProtocolError(.notFound, error.message)
            case .conflict: return ProtocolError(.conflict, error.message)
            case .unavailable: return ProtocolError(.internal, "storage unavailable: \(error.message); nothing was stored")
            }
        default:
            return ProtocolError(.internal, "internal error")
        }
    }
}
