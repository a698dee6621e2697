import DugnadProtocol
import NIOCore

/// Governance: the `removed` event, bans and the audit log (contract §9).
extension EventEncoding {
    /// `{"type":"removed","channel":..,"reason":..}`: a connection's subscription ended
    /// because its access did (`removed_by_admin`, `access_ended`).
    public static func removedEvent(channel: String, reason: String) -> ByteBuffer {
        event("removed") { writer in
            writer.field("channel", channel)
            writer.field("reason", reason)
        }
    }

    /// `ban`: `{user, banned_at, banned_by, reason}`.
    public static func writeBan(_ ban: BanRecord, into writer: inout JSONWriter) {
        writer.key("ban")
        writer.beginObject()
        writer.field("user", ban.userID)
        writer.field("banned_at", ban.bannedAt)
        writer.field("banned_by", ban.bannedBy)
        writer.key("reason")
        if let reason = ban.reason { writer.string(reason) } else { writer.null() }
        writer.endObject()
    }

    /// `entries`: `[{seq, id, at, actor, action, target, detail}]` newest first, and
    /// `has_more`: the body of `GET /api/v1/audit`.
    public static func writeAuditPage(_ entries: [AuditEntry], hasMore: Bool, into writer: inout JSONWriter) {
        writeArray("entries", entries, into: &writer) { writer, entry in
            writer.beginObject()
            writer.field("seq", entry.seq)
            writer.field("id", entry.id)
            writer.field("at", entry.at)
            writer.field("actor", entry.actor)
            writer.field("action", entry.action)
            writer.field("target", entry.target)
            writer.key("detail")
            writer.raw(entry.detailJSON)
            writer.endObject()
        }
        writer.field("has_more", hasMore)
    }
}
