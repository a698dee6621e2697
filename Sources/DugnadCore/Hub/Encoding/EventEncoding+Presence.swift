import DugnadProtocol
import NIOCore

/// Who is online where, and who belongs to a channel.
extension EventEncoding {
    /// A channel's presence as `Hub.presence(channel:)` reports it: the members (empty in
    /// counts-only mode), how many are online, and whether the list was left out.
    public typealias Presence = (members: [PresenceState.Member], count: Int, countsOnly: Bool)

    public static func writeMembers(_ members: [PresenceState.Member], into writer: inout JSONWriter) {
        writer.beginArray()
        for member in members { writeUser(id: member.id, name: member.name, into: &writer) }
        writer.endArray()
    }

    /// `presence`, `presence_count` and `presence_mode`: the `presence` reply, the end of a
    /// `join` reply, and the body of `GET /api/v1/channels/{name}/presence`.
    public static func writePresence(_ presence: Presence, into writer: inout JSONWriter) {
        writer.key("presence")
        writeMembers(presence.members, into: &writer)
        writer.field("presence_count", presence.count)
        writer.field("presence_mode", presence.countsOnly ? "counts" : "list")
    }

    public static func presenceDiffEvent(_ diff: PresenceState.Diff, countsOnly: Bool) -> ByteBuffer {
        event("presence_diff") { writer in
            writer.field("channel", diff.channel)
            writer.key("joins")
            writeMembers(countsOnly ? [] : diff.joins, into: &writer)
            writer.key("leaves")
            writeMembers(countsOnly ? [] : diff.leaves, into: &writer)
            writer.field("presence_count", diff.count)
        }
    }

    /// `members` (each `{id, name, online, last_seen}`) and `has_more`: the `members` reply.
    /// `isOnline` is asked once per member, while the reply is written.
    public static func writeMemberPage(
        _ members: [UserRecord], hasMore: Bool, isOnline: (String) -> Bool, into writer: inout JSONWriter
    ) {
        writeObjects("members", members, into: &writer) { writer, member in
            writer.field("id", member.id)
            writer.field("name", member.name)
            writer.field("online", isOnline(member.id))
            writer.key("last_seen")
            if let lastSeen = member.lastSeen { writer.int(lastSeen) } else { writer.null() }
        }
        writer.field("has_more", hasMore)
    }
}
