import DugnadProtocol
import NIOCore

/// JSON shapes of section 6, written straight into a `JSONWriter` (no `Codable` on the
/// hot path).
public enum EventEncoding {
    public static func writeMessage(_ message: StoredMessage, into writer: inout JSONWriter) {
        writer.key("channel")
        writer.string(message.channel)
        writer.key("seq")
        writer.int(message.seq)
        writer.key("id")
        writer.string(message.id)
        writer.key("from")
        writeUser(id: message.fromID, name: message.fromName, into: &writer)
        writer.key("body")
        writer.string(message.body)
        writer.key("meta")
        if let meta = message.metaJSON {
            writer.raw(Array(meta.utf8))
        } else {
            writer.null()
        }
        writer.key("reply_to")
        writeOptional(message.replyTo, into: &writer)
        writer.key("ts")
        writer.int(message.ts)
        if let clientID = message.clientID {
            writer.key("client_id")
            writer.string(clientID)
        }
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
        var writer = JSONWriter(capacity: 192 + message.body.utf8.count)
        writer.beginObject()
        writer.key("type")
        writer.string("message")
        writeMessage(message, into: &writer)
        writer.endObject()
        return OutboundFrame.make(writer.bytes)
    }

    public static func writeUser(id: String, name: String, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.string(id)
        writer.key("name")
        writer.string(name)
        writer.endObject()
    }

    /// `{name, kind, title, epoch}` as in a `join` reply; with `last_seq` (welcome, HTTP
    /// listings) and the user's `read_seq` (welcome) when asked.
    public static func writeChannel(
        _ channel: ChannelRecord, withLastSeq: Bool = false, readSeq: Int64? = nil, into writer: inout JSONWriter
    ) {
        writer.beginObject()
        writer.key("name")
        writer.string(channel.name)
        writer.key("kind")
        writer.string(channel.kind.rawValue)
        writer.key("title")
        writer.string(channel.title)
        writer.key("epoch")
        writer.string(channel.epoch)
        if withLastSeq {
            writer.key("last_seq")
            writer.int(channel.lastSeq)
        }
        if let readSeq {
            writer.key("read_seq")
            writer.int(readSeq)
        }
        writer.endObject()
    }

    public static func writeMembers(_ members: [PresenceState.Member], into writer: inout JSONWriter) {
        writer.beginArray()
        for member in members { writeUser(id: member.id, name: member.name, into: &writer) }
        writer.endArray()
    }

    public static func writeOptional(_ value: String?, into writer: inout JSONWriter) {
        if let value { writer.string(value) } else { writer.null() }
    }

    public static func presenceDiffEvent(_ diff: PresenceState.Diff, countsOnly: Bool) -> ByteBuffer {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("type")
        writer.string("presence_diff")
        writer.key("channel")
        writer.string(diff.channel)
        writer.key("joins")
        writeMembers(countsOnly ? [] : diff.joins, into: &writer)
        writer.key("leaves")
        writeMembers(countsOnly ? [] : diff.leaves, into: &writer)
        writer.key("presence_count")
        writer.int(diff.count)
        writer.endObject()
        return OutboundFrame.make(writer.bytes)
    }

    public static func typingEvent(channel: String, userID: String, name: String) -> ByteBuffer {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("type")
        writer.string("typing")
        writer.key("channel")
        writer.string(channel)
        writer.key("user")
        writeUser(id: userID, name: name, into: &writer)
        writer.endObject()
        return OutboundFrame.make(writer.bytes)
    }

    public static func reactionEvent(_ reaction: ReactionRecord, userName: String, remove: Bool) -> ByteBuffer {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("type")
        writer.string("reaction")
        writer.key("channel")
        writer.string(reaction.channel)
        writer.key("message_id")
        writer.string(reaction.messageID)
        writer.key("emoji")
        writer.string(reaction.emoji)
        writer.key("user")
        writeUser(id: reaction.userID, name: userName, into: &writer)
        writer.key("op")
        writer.string(remove ? "remove" : "add")
        writer.endObject()
        return OutboundFrame.make(writer.bytes)
    }

    /// Tells a user's other connections that its read position moved (an addition to the
    /// contract: lets every tab keep the same unread count).
    public static func readPositionEvent(channel: String, readSeq: Int64) -> ByteBuffer {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("type")
        writer.string("read_position")
        writer.key("channel")
        writer.string(channel)
        writer.key("read_seq")
        writer.int(readSeq)
        writer.endObject()
        return OutboundFrame.make(writer.bytes)
    }

    /// `{"type":"error",...}`: an unsolicited error (a bad frame without `ref`, token expiring).
    public static func errorEvent(_ error: ProtocolError) -> ByteBuffer {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("type")
        writer.string("error")
        writer.key("code")
        writer.string(error.code.rawValue)
        writer.key("message")
        writer.string(error.message)
        if let retry = error.retryAfterMs {
            writer.key("retry_after_ms")
            writer.int(retry)
        }
        writer.endObject()
        return OutboundFrame.make(writer.bytes)
    }

    /// `{"type":"reply","ref":R,"ok":true, ...fields}`.
    public static func okReply(ref: JSONValue, fields: (inout JSONWriter) -> Void = { _ in }) -> ByteBuffer {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("type")
        writer.string("reply")
        writer.key("ref")
        writer.value(ref)
        writer.key("ok")
        writer.bool(true)
        fields(&writer)
        writer.endObject()
        return OutboundFrame.make(writer.bytes)
    }

    public static func errorReply(ref: JSONValue, error: ProtocolError) -> ByteBuffer {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("type")
        writer.string("reply")
        writer.key("ref")
        writer.value(ref)
        writer.key("ok")
        writer.bool(false)
        writer.key("error")
        error.write(to: &writer)
        writer.endObject()
        return OutboundFrame.make(writer.bytes)
    }
}

extension EventEncoding {
    /// The announcement object of section 6 (without `type`), plus the user's receipt
    /// (`read`, `acked`) when one is given.
    public static func writeAnnouncement(
        _ announcement: AnnouncementRecord, receipt: (readAt: Int64?, ackedAt: Int64?)? = nil, into writer: inout JSONWriter
    ) {
        writer.key("id")
        writer.string(announcement.id)
        writer.key("from")
        writeUser(id: announcement.fromID, name: announcement.fromName, into: &writer)
        writer.key("title")
        writer.string(announcement.title)
        writer.key("body")
        writer.string(announcement.body)
        writer.key("priority")
        writer.string(announcement.priority.rawValue)
        writer.key("require_ack")
        writer.bool(announcement.requireAck)
        writer.key("audience")
        writer.beginObject()
        switch announcement.audience {
        case .all:
            writer.key("all")
            writer.bool(true)
        case .channels(let channels):
            writer.key("channels")
            writer.beginArray()
            for channel in channels { writer.string(channel) }
            writer.endArray()
        }
        writer.endObject()
        writer.key("ts")
        writer.int(announcement.ts)
        writer.key("audience_count")
        writer.int(announcement.audienceCount)
        if let receipt {
            writer.key("read")
            writer.bool(receipt.readAt != nil)
            writer.key("acked")
            writer.bool(receipt.ackedAt != nil)
        }
    }

    public static func writeAnnouncementObject(_ announcement: AnnouncementRecord, into writer: inout JSONWriter) {
        writer.beginObject()
        writeAnnouncement(announcement, into: &writer)
        writer.endObject()
    }

    public static func announcementEvent(_ announcement: AnnouncementRecord) -> ByteBuffer {
        var writer = JSONWriter(capacity: 256 + announcement.body.utf8.count)
        writer.beginObject()
        writer.key("type")
        writer.string("announcement")
        writeAnnouncement(announcement, into: &writer)
        writer.endObject()
        return OutboundFrame.make(writer.bytes)
    }

    public static func writeStats(_ stats: AnnouncementStats, into writer: inout JSONWriter) {
        writer.key("audience")
        writer.int(stats.audience)
        writer.key("delivered")
        writer.int(stats.delivered)
        writer.key("read")
        writer.int(stats.read)
        writer.key("acked")
        writer.int(stats.acked)
    }

    public static func statsEvent(id: String, stats: AnnouncementStats) -> ByteBuffer {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("type")
        writer.string("announcement_stats")
        writer.key("id")
        writer.string(id)
        writeStats(stats, into: &writer)
        writer.endObject()
        return OutboundFrame.make(writer.bytes)
    }
}
