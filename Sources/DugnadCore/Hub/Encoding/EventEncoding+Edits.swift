import DugnadProtocol
import NIOCore

/// What happens to a message after it was sent: `message_edited`, `message_deleted`, the
/// `mention` event, and the `changes` of a recovering `join`.
extension EventEncoding {
    /// `message_edited` {channel, seq, id, body, edited_at} (contract §9), with `mentions`
    /// when the new body has any: the whole body, so a client that gets it twice (live,
    /// then in a recovery) just shows it again.
    public static func messageEditedEvent(_ message: StoredMessage) -> ByteBuffer {
        event("message_edited", capacity: 160 + message.body.utf8.count) { writer in
            writer.field("channel", message.channel)
            writer.field("seq", message.seq)
            writer.field("id", message.id)
            writer.field("body", message.body)
            writer.field("edited_at", message.editedAt ?? message.ts)
            writeMentions(of: message, into: &writer)
        }
    }

    /// `message_deleted` {channel, seq, id} (contract §9).
    public static func messageDeletedEvent(_ message: StoredMessage) -> ByteBuffer {
        event("message_deleted") { writer in
            writer.field("channel", message.channel)
            writer.field("seq", message.seq)
            writer.field("id", message.id)
        }
    }

    /// `mention` {channel, message} to every connection of a mentioned member.
    public static func mentionEvent(_ message: StoredMessage) -> ByteBuffer {
        event("mention", capacity: 224 + message.body.utf8.count) { writer in
            writer.field("channel", message.channel)
            writer.key("message")
            writeMessageObject(message, into: &writer)
        }
    }

    /// The `edit` reply (`message`, as after a publish).
    public static func writeEdited(_ message: StoredMessage, into writer: inout JSONWriter) {
        writePublished(message, into: &writer)
    }

    /// `changes` in a recovering `join` reply (an addition): the messages the client has
    /// (at or before its `since`) that were edited or deleted while it was away, as
    /// history shows them now; `changes_truncated` when more changed than the reply holds.
    static func writeChanges(_ changes: [StoredMessage], truncated: Bool, into writer: inout JSONWriter) {
        writer.key("changes")
        writeMessages(changes, into: &writer)
        if truncated { writer.field("changes_truncated", true) }
    }
}
