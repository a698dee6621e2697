import DugnadProtocol
import NIOCore

/// Every JSON shape the hub sends, written straight into a `JSONWriter` (no `Codable` on the
/// hot path): the events and replies of the WebSocket protocol (section 6) and the bodies of
/// the HTTP API (section 8). The WebSocket session and the HTTP API both write through these
/// functions, so each shape is spelled out once.
///
/// Functions named `…Event` or `…Reply` return a complete frame; `write…` functions write
/// one value, or the members of an object whose braces the caller opened, into `writer`.
/// The extensions hold the shapes by subject: messages, channels, presence, users,
/// announcements, engagement.
public enum EventEncoding {
    /// `{"type":type, ...fields}`, framed for the wire: the envelope of every event and reply.
    /// `capacity` is the writer's first allocation (a guess at the frame's size).
    static func event(_ type: String, capacity: Int = 256, fields: (inout JSONWriter) -> Void) -> ByteBuffer {
        var writer = JSONWriter(capacity: capacity)
        writer.beginObject()
        writer.field("type", type)
        fields(&writer)
        writer.endObject()
        return OutboundFrame.make(writer.bytes)
    }

    /// `{"type":"reply","ref":R,"ok":true, ...fields}`.
    public static func okReply(ref: JSONValue, fields: (inout JSONWriter) -> Void = { _ in }) -> ByteBuffer {
        event("reply") { writer in
            writer.field("ref", ref)
            writer.field("ok", true)
            fields(&writer)
        }
    }

    /// `{"type":"reply","ref":R,"ok":false,"error":{...}}`.
    public static func errorReply(ref: JSONValue, error: ProtocolError) -> ByteBuffer {
        event("reply") { writer in
            writer.field("ref", ref)
            writer.field("ok", false)
            writeError(error, into: &writer)
        }
    }

    /// `error`: `{code, message, retry_after_ms?}`, in a failed reply and as the body of
    /// every HTTP API error.
    public static func writeError(_ error: ProtocolError, into writer: inout JSONWriter) {
        writer.key("error")
        error.write(to: &writer)
    }

    /// `{"type":"error",...}`: an unsolicited error (a bad frame without `ref`, token expiring).
    public static func errorEvent(_ error: ProtocolError) -> ByteBuffer {
        event("error") { writer in error.writeFields(to: &writer) }
    }

    /// `"name":[...]`: one value per element, written by `element`.
    static func writeArray<Elements: Sequence>(
        _ name: String, _ elements: Elements, into writer: inout JSONWriter,
        element: (inout JSONWriter, Elements.Element) -> Void
    ) {
        writer.key(name)
        writer.beginArray()
        for each in elements { element(&writer, each) }
        writer.endArray()
    }

    /// `"name":[{...},...]`: one object per element, whose members `members` writes.
    static func writeObjects<Elements: Sequence>(
        _ name: String, _ elements: Elements, into writer: inout JSONWriter,
        members: (inout JSONWriter, Elements.Element) -> Void
    ) {
        writeArray(name, elements, into: &writer) { writer, each in
            writer.beginObject()
            members(&writer, each)
            writer.endObject()
        }
    }

    /// `{id, name}`: who sent a message, reacted, typed or is present.
    public static func writeUser(id: String, name: String, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", id)
        writer.field("name", name)
        writer.endObject()
    }
}
