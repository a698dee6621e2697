import DugnadProtocol
import NIOCore

/// Messages and what happens around them: the message object, history pages, typing,
/// reactions and read positions.
extension EventEncoding {
    /// The members of a message object (without `type`): shared by the `message` event and
    /// every place a stored message is listed.
    ///
    /// A deleted message has `deleted: true` and no `body` (nor `meta`); an edited one its
    /// current body and `edited_at`; one with mentions `mentions` (and `mentions_channel`
    /// for `@channel`). The common message has none of these fields.
    public static func writeMessage(_ message: StoredMessage, into writer: inout JSONWriter) {
        writer.field("channel", message.channel)
        writer.field("seq", message.seq)
        writer.field("id", message.id)
        writer.key("from")
        writeUser(id: message.fromID, name: message.fromName, into: &writer)
        if message.deleted {
            writer.field("deleted", true)
        } else {
            writer.field("body", message.body)
        }
        writer.key("meta")
        if let meta = message.metaJSON, !message.deleted { writer.raw(meta) } else { writer.null() }
        writer.field("reply_to", message.replyTo)
        writer.field("ts", message.ts)
        if let clientID = message.clientID { writer.field("client_id", clientID) }
        if let editedAt = message.editedAt, !message.deleted { writer.field("edited_at", editedAt) }
        writeMentions(of: message, into: &writer)
    }

    /// `mentions` (and `mentions_channel`), when the message has any.
    static func writeMentions(of message: StoredMessage, into writer: inout JSONWriter) {
        if !message.mentions.isEmpty {
            writeArray("mentions", message.mentions, into: &writer) { writer, id in writer.string(id) }
        }
        if message.mentionsChannel { writer.field("mentions_channel", true) }
    }

    /// A stored message as an object (replies, history).
    public static func writeMessageObject(_ message: StoredMessage, into writer: inout JSONWriter) {
        writer.beginObject()
        writeMessage(message, into: &writer)
        writer.endObject()
    }

    public static func writeMessages(_ messages: [StoredMessage], into writer: inout JSONWriter) {
        writer.beginArray()
        for message in messages { writeMessageObject(message, into: &writer) }
        writer.endArray()
    }

    /// The `message` event, framed once for every subscriber.
    public static func messageEvent(_ message: StoredMessage) -> ByteBuffer {
        event("message", capacity: 192 + message.body.utf8.count) { writer in writeMessage(message, into: &writer) }
    }

    /// `message`: the `publish` reply, and the body of `POST /api/v1/channels/{name}/messages`.
    public static func writePublished(_ message: StoredMessage, into writer: inout JSONWriter) {
        writer.key("message")
        writeMessageObject(message, into: &writer)
    }

    /// `messages` and `has_more`: the `history` reply, and the body of
    /// `GET /api/v1/channels/{name}/messages`.
    public static func writeHistory(_ messages: [StoredMessage], hasMore: Bool, into writer: inout JSONWriter) {
        writer.key("messages")
        writeMessages(messages, into: &writer)
        writer.field("has_more", hasMore)
    }

    public static func typingEvent(channel: String, userID: String, name: String) -> ByteBuffer {
        event("typing") { writer in
            writer.field("channel", channel)
            writer.key("user")
            writeUser(id: userID, name: name, into: &writer)
        }
    }

    public static func reactionEvent(_ reaction: ReactionRecord, userName: String, remove: Bool) -> ByteBuffer {
        event("reaction") { writer in
            writer.field("channel", reaction.channel)
            writer.field("message_id", reaction.messageID)
            writer.field("emoji", reaction.emoji)
            writer.key("user")
            writeUser(id: reaction.userID, name: userName, into: &writer)
            writer.field("op", remove ? "remove" : "add")
        }
    }

    /// Tells a user's other connections that its read position moved (an addition to the
    /// contract: lets every tab keep the same unread count).
    /// `announcement_receipt`: the user read or acknowledged an announcement on one of its
    /// devices; the others clear its banner and badge.
    public static func announcementReceiptEvent(id: String, kind: AckKind) -> ByteBuffer {
        event("announcement_receipt") { writer in
            writer.field("id", id)
            writer.field("kind", kind.rawValue)
        }
    }

    public static func readPositionEvent(channel: String, readSeq: Int64) -> ByteBuffer {
        event("read_position") { writer in
            writer.field("channel", channel)
            writer.field("read_seq", readSeq)
        }
    }

    /// `read_seq`: the `mark_read` reply, the user's read position after the move.
    public static func writeReadSeq(_ readSeq: Int64, into writer: inout JSONWriter) {
        writer.field("read_seq", readSeq)
    }
}
