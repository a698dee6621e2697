import DugnadCore
import DugnadProtocol
import NIOCore

/// The HTTP twins of `edit` and `delete`, for bots and integrations: decoded by the same
/// decoder and decided by the same hub code as over WebSocket.
extension APIRouter {
    /// `PATCH /api/v1/messages/{id}` with `{"body":...}`: 200 `{"message":{...}}`. A person
    /// takes from the publish budget, as for a publish over HTTP.
    func editMessage(_ id: String, _ body: ByteBuffer?, by principal: Principal, on loop: any EventLoop)
        -> EventLoopFuture<HTTPResponse>
    {
        let hub = app.hub
        return decode(body, as: "edit", adding: [("message_id", .string(id))], on: loop) { command in
            guard case .edit(let messageID, let text) = command else { throw ProtocolError.badRequest("not an edit") }
            try spend(.publish, by: principal, tooMany: "edits")
            return hub.edit(messageID: messageID, body: text, by: principal, on: loop).map { message in
                .json(.ok) { writer in EventEncoding.writeEdited(message, into: &writer) }
            }
        }
    }

    /// `DELETE /api/v1/messages/{id}`: 204. A person takes from the publish budget, as
    /// for an edit: a deletion is a write like them.
    func deleteMessage(_ id: String, by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        decodeFields([("message_id", .string(id))], as: "delete", on: loop) { command in
            guard case .delete(let messageID) = command else { throw ProtocolError.badRequest("not a deletion") }
            try spend(.publish, by: principal, tooMany: "deletions")
            return app.hub.delete(messageID: messageID, by: principal, on: loop).map { _ in .empty(.noContent) }
        }
    }
}
