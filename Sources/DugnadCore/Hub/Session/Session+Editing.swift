import DugnadProtocol
import NIOCore

/// Changing what was said: `edit` and `delete` (the rules are `Hub+Editing.swift`'s).
extension Session {
    func edit(messageID: String, body: String, ref: JSONValue?, ticket: WriteTicket) {
        respond(ref, hub.edit(messageID: messageID, body: body, by: principal, on: loop, ticket: ticket), ticket: ticket) {
            writer, message in
            EventEncoding.writeEdited(message, into: &writer)
        }
    }

    func delete(messageID: String, ref: JSONValue?, ticket: WriteTicket) {
        respondEmpty(ref, hub.delete(messageID: messageID, by: principal, on: loop, ticket: ticket), ticket: ticket)
    }
}
