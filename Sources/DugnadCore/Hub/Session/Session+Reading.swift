import DugnadProtocol
import NIOCore

/// Reading a channel: `history`, `presence`, `members`, and `mark_read` (the user's read
/// position, which the user's other connections hear about).
extension Session {
    func history(channel: String, page: HistoryRequest, ref: JSONValue?) {
        respond(ref, hub.history(channel: channel, page: page, by: principal, on: loop)) { writer, result in
            EventEncoding.writeHistory(result.messages, hasMore: result.hasMore, into: &writer)
        }
    }

    func presence(channel: String, ref: JSONValue?) {
        respond(ref, hub.readableChannel(channel, by: principal, on: loop)) { [hub] writer, _ in
            EventEncoding.writePresence(hub.presence(channel: channel), into: &writer)
        }
    }

    func members(channel: String, limit: Int, after: String?, ref: JSONValue?) {
        let hub = self.hub
        let loop = self.loop
        let page = hub.members(of: channel, after: after, limit: limit, by: principal, on: loop)
        respond(ref, page) { writer, result in
            EventEncoding.writeMemberPage(result.members, hasMore: result.hasMore, isOnline: hub.isOnline, into: &writer)
        }
    }

    func markRead(channel: String, seq: Int64, ref: JSONValue?, ticket: WriteTicket) {
        let userID = principal.userID
        let hub = self.hub
        let loop = self.loop
        let moved = hub.readableChannel(channel, by: principal, on: loop).flatMap { _ in
            hub.write(.markRead(userID: userID, channel: channel, seq: seq), on: loop, ticket: ticket) { outcome, post in
                guard case .readSeq(let readSeq) = outcome else { return }
                post.events.append(
                    FanoutEvent(
                        target: .users([userID]), frame: EventEncoding.readPositionEvent(channel: channel, readSeq: readSeq)))
            }
        }
        respond(ref, moved, ticket: ticket) { writer, outcome in
            if case .readSeq(let readSeq) = outcome { EventEncoding.writeReadSeq(readSeq, into: &writer) }
        }
    }
}
