import DugnadProtocol
import NIOCore

/// Who the user is: the welcome, the refreshed credentials, imported users.
extension EventEncoding {
    /// `{id, name, roles}`: the connection's own user, as the welcome and a refresh show it.
    public static func writePrincipal(_ principal: Principal, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", principal.userID)
        writer.field("name", principal.name)
        writeArray("roles", principal.roleNames, into: &writer) { writer, role in writer.string(role) }
        writer.endObject()
    }

    /// The `welcome` event: the session, the user, the server's limits, the user's channels
    /// with their read positions, and the announcements still waiting for the user.
    public static func welcomeEvent(
        session: String, principal: Principal, server: ServerInfo, maxFrameBytes: Int, memberships: [MembershipRecord],
        announcements: [UserAnnouncement], announcementsHaveMore: Bool = false
    ) -> ByteBuffer {
        event("welcome", capacity: 512) { writer in
            writer.field("session", session)
            writer.key("user")
            writePrincipal(principal, into: &writer)
            writer.key("server")
            writer.beginObject()
            writer.field("version", server.version)
            writer.field("ping_interval", server.pingInterval)
            writer.field("max_frame_bytes", maxFrameBytes)
            writer.endObject()
            writeArray("channels", memberships, into: &writer) { writer, membership in
                writeChannel(
                    membership.channel, withLastSeq: true, readSeq: membership.readSeq,
                    unreadMentions: membership.unreadMentions, into: &writer)
            }
            writeArray("announcements", announcements, into: &writer) { writer, pending in
                writeAnnouncementObject(pending.announcement, receipt: (pending.readAt, pending.ackedAt), into: &writer)
            }
            // An addition: more pending announcements than the welcome could hold; list
            // them with `announcements` and `received: true`.
            if announcementsHaveMore { writer.field("announcements_has_more", true) }
        }
    }

    /// `user`: the `refresh` reply, the user as the new credentials describe it.
    public static func writeRefreshed(_ principal: Principal, into writer: inout JSONWriter) {
        writer.key("user")
        writePrincipal(principal, into: &writer)
    }

    /// `imported`: the body of `POST /api/v1/users`.
    public static func writeImported(count: Int, into writer: inout JSONWriter) {
        writer.field("imported", count)
    }
}
