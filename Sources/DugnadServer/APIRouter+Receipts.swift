import DugnadCore
import DugnadProtocol
import NIOCore

extension APIRouter {
    static let defaultReceiptsLimit = 100
    static let maxReceiptsLimit = 500

    /// `GET /api/v1/announcements/{id}/receipts?state=unread|unacked&after=USER&limit=N`:
    /// who of the audience has not read or not acknowledged it yet (author, admins).
    func receipts(of id: String, query: [String: String], by principal: Principal, on loop: any EventLoop)
        -> EventLoopFuture<HTTPResponse>
    {
        guard let state = ReceiptState(rawValue: query["state"] ?? "") else {
            return loop.makeSucceededFuture(.error(.badRequest("'state' must be 'unread' or 'unacked'")))
        }
        let limit = query["limit"].map { Int($0) ?? -1 } ?? Self.defaultReceiptsLimit
        guard (1...Self.maxReceiptsLimit).contains(limit) else {
            return loop.makeSucceededFuture(.error(.badRequest("'limit' must be 1 to \(Self.maxReceiptsLimit)")))
        }
        let after = query["after"]
        if let after, after.isEmpty || after.utf8.count > Limits.maxIDBytes || after.utf8.contains(0) {
            return loop.makeSucceededFuture(
                .error(.badRequest("'after' must be a user id of 1 to \(Limits.maxIDBytes) bytes, without U+0000")))
        }
        return app.hub.announcementRecipients(id, state: state, afterUserID: after, limit: limit, by: principal, on: loop)
            .map { page in
                .json(.ok) { writer in
                    writer.key("users")
                    writer.beginArray()
                    for recipient in page.recipients {
                        writer.beginObject()
                        writer.field("id", recipient.id)
                        writer.field("name", recipient.name)
                        writer.endObject()
                    }
                    writer.endArray()
                    writer.field("has_more", page.hasMore)
                }
            }
    }
}
