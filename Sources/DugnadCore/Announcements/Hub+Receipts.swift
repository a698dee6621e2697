import DugnadProtocol
import NIOCore

extension Hub {
    /// Who of an announcement's audience has not yet read it (`.unread`) or acknowledged it
    /// (`.unacked`), a page at a time by user id: for its author and admins only. Names are
    /// more than the counts leaders see (`checkReach`): a leader may see how many have not
    /// read another leader's announcement, not who.
    public func announcementRecipients(
        _ announcementID: String, state: ReceiptState, afterUserID: String?, limit: Int, by principal: Principal,
        on loop: any EventLoop
    ) -> EventLoopFuture<(recipients: [AnnouncementRecipient], hasMore: Bool)> {
        // The checks need the record, so they run where it is read: a refused caller costs
        // no page, and nothing is read twice.
        read(on: loop) { store in
            guard let record = try store.announcement(id: announcementID) else {
                throw ProtocolError.notFound("no announcement '\(announcementID)'")
            }
            guard record.fromID == principal.userID || principal.isAdmin else {
                throw ProtocolError.forbidden("only the author and admins can see who has not read an announcement")
            }
            guard state == .unread || record.requireAck else {
                throw ProtocolError.badRequest("announcement '\(announcementID)' asks for no acknowledgement; use state=unread")
            }
            return try store.announcementRecipients(id: announcementID, state: state, afterUserID: afterUserID, limit: limit)
        }
    }
}
