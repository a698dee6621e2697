import DugnadProtocol
import NIOCore

/// Permission checks of sections 7, 8 and 9, shared by the WebSocket session and the HTTP
/// API. The rules themselves are `ChannelAccess`; this is where they meet the caches and
/// storage. Every check runs against the credentials the caller holds now and the
/// membership as it is now (an admin's removal reaches the cache within a second).
extension Hub {
    /// Resolves a channel the principal may read (`intent` `.read`) or post in (`.post`,
    /// after which `checkPost` applies the channel kind's rule).
    ///
    /// People must be members (a `channels` claim alone is not enough), and a private
    /// channel's membership counts only while `ChannelAccess.memberMayRead` holds. Bots
    /// need the scope for the intent and reach public and announce channels plus the
    /// private ones their key names. One answer for a channel that does not exist and one
    /// that is not the caller's: an outsider learns nothing, not even whether a private
    /// channel of that name exists.
    public func readableChannel(
        _ name: String, by principal: Principal, for intent: ChannelAccess.Intent = .read, on loop: any EventLoop
    ) -> EventLoopFuture<ChannelRecord> {
        if principal.isBot {
            return channel(named: name, on: loop).flatMapThrowing { record in
                guard let record, ChannelAccess.botMay(intent, record, principal: principal) else {
                    throw ChannelAccess.notReached(name)
                }
                return record
            }
        }
        return membershipKind(userID: principal.userID, channel: name, on: loop).flatMap { [self] membership in
            guard let membership else { return loop.makeFailedFuture(ChannelAccess.notReadable(name)) }
            return channel(named: name, on: loop).flatMapThrowing { [self] record in
                guard let record else { throw ChannelAccess.notReadable(name) }
                guard
                    ChannelAccess.memberMayRead(
                        record, membership: membership, principal: principal, adminsReadDirect: self.adminsReadDirect)
                else {
                    // A membership through a claim the token no longer holds: it ends.
                    endLapsedMembership(userID: principal.userID, channel: name)
                    throw ChannelAccess.notReadable(name)
                }
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

    /// Whether the principal may join (become a member of) a channel that exists.
    public func checkJoin(_ record: ChannelRecord, by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<Void> {
        let name = record.name
        return membershipKind(userID: principal.userID, channel: name, on: loop).flatMapThrowing { membership in
            guard
                ChannelAccess.mayJoin(
                    record, membership: membership, principal: principal, adminsReadDirect: self.adminsReadDirect)
            else {
                throw principal.isBot ? ChannelAccess.notReached(name) : ChannelAccess.notJoinable(name)
            }
        }
    }

    /// A membership made through a claim that the user's token no longer holds (or an
    /// admin role that is gone) ends: it is forgotten, so that lists of members stay true.
    /// A granted one is never ended here.
    func endLapsedMembership(userID: String, channel: String) {
        noteMembership(userID: userID, channel: channel, kind: nil)
        writer.submit(.revokeMembership(userID: userID, channel: channel, keepGranted: true)) { _, _ in }
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
            case .tooSoon: return ProtocolError(.rateLimited, error.message, retryAfterMs: error.retryAfterMs ?? 1_000)
            case .unavailable: return ProtocolError(.internal, "storage unavailable: \(error.message); nothing was stored")
            }
        default:
            return ProtocolError(.internal, "internal error")
        }
    }
}
