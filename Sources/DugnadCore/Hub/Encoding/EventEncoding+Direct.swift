import DugnadProtocol
import NIOCore

/// Direct channels: the `direct` reply and the `direct_channel` event share one shape, the
/// channel (titled for its reader) and its people.
extension EventEncoding {
    /// `channel` `{name, kind, title, epoch, last_seq}` and `members` `[{id, name}]`.
    public static func writeDirect(
        _ channel: ChannelRecord, members: [(id: String, name: String)], into writer: inout JSONWriter
    ) {
        writer.key("channel")
        writeChannel(channel, withLastSeq: true, into: &writer)
        writeArray("members", members, into: &writer) { writer, member in
            writeUser(id: member.id, name: member.name, into: &writer)
        }
    }

    /// `{"type":"direct_channel","channel":{...},"members":[...]}`: a direct channel the
    /// connection was just subscribed to (it was made, by this user or another member).
    public static func directChannelEvent(_ channel: ChannelRecord, members: [(id: String, name: String)]) -> ByteBuffer {
        event("direct_channel") { writer in writeDirect(channel, members: members, into: &writer) }
    }
}
