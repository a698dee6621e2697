import DugnadProtocol
import NIOCore

/// Announcements: the announcement object, its figures, and the replies about them.
extension EventEncoding {
    /// The announcement object of section 6 (without `type`), plus the user's receipt
    /// (`read`, `acked`) when one is given.
    public static func writeAnnouncement(
        _ announcement: AnnouncementRecord, receipt: (readAt: Int64?, ackedAt: Int64?)? = nil, into writer: inout JSONWriter
    ) {
        writer.field("id", announcement.id)
        writer.key("from")
        writeUser(id: announcement.fromID, name: announcement.fromName, into: &writer)
        writer.field("title", announcement.title)
        writer.field("body", announcement.body)
        writer.field("priority", announcement.priority.rawValue)
        writer.field("require_ack", announcement.requireAck)
        writer.key("audience")
        writer.beginObject()
        switch announcement.audience {
        case .all:
            writer.field("all", true)
        case .channels(let channels):
            writeArray("channels", channels, into: &writer) { writer, channel in writer.string(channel) }
        }
        writer.endObject()
        writer.field("ts", announcement.ts)
        writer.field("audience_count", announcement.audienceCount)
        if let until = announcement.until { writer.field("until", until) }
        if let receipt {
            writer.field("read", receipt.readAt != nil)
            writer.field("acked", receipt.ackedAt != nil)
        }
    }

    /// The announcement as an object (replies, HTTP bodies, the welcome's pending list).
    public static func writeAnnouncementObject(
        _ announcement: AnnouncementRecord, receipt: (readAt: Int64?, ackedAt: Int64?)? = nil, into writer: inout JSONWriter
    ) {
        writer.beginObject()
        writeAnnouncement(announcement, receipt: receipt, into: &writer)
        writer.endObject()
    }

    public static func announcementEvent(_ announcement: AnnouncementRecord) -> ByteBuffer {
        event("announcement", capacity: 256 + announcement.body.utf8.count) { writer in
            writeAnnouncement(announcement, into: &writer)
        }
    }

    /// `announcement`: the `announce` reply, and the body of `POST /api/v1/announcements`.
    public static func writeAnnounced(_ announcement: AnnouncementRecord, into writer: inout JSONWriter) {
        writer.key("announcement")
        writeAnnouncementObject(announcement, into: &writer)
    }

    /// The members of the figures object: `audience`, `delivered`, `read`, `acked`.
    public static func writeStats(_ stats: AnnouncementStats, into writer: inout JSONWriter) {
        writer.field("audience", stats.audience)
        writer.field("delivered", stats.delivered)
        writer.field("read", stats.read)
        writer.field("acked", stats.acked)
    }

    /// `stats`: the figures as an object.
    static func writeStatsObject(_ stats: AnnouncementStats, into writer: inout JSONWriter) {
        writer.key("stats")
        writer.beginObject()
        writeStats(stats, into: &writer)
        writer.endObject()
    }

    /// `id` and `stats`: the `announcement_stats` reply.
    public static func writeAnnouncementStats(id: String, stats: AnnouncementStats, into writer: inout JSONWriter) {
        writer.field("id", id)
        writeStatsObject(stats, into: &writer)
    }

    /// `announcement` and `stats`: the body of `GET /api/v1/announcements/{id}`.
    public static func writeAnnouncementWithStats(
        _ announcement: AnnouncementRecord, stats: AnnouncementStats, into writer: inout JSONWriter
    ) {
        writeAnnounced(announcement, into: &writer)
        writeStatsObject(stats, into: &writer)
    }

    /// The `announcement_stats` event: the figures, flat beside the announcement's `id`.
    public static func statsEvent(id: String, stats: AnnouncementStats) -> ByteBuffer {
        event("announcement_stats") { writer in
            writer.field("id", id)
            writeStats(stats, into: &writer)
        }
    }

    /// `reminded`: the `remind` reply, how many users were reminded.
    public static func writeReminded(count: Int, into writer: inout JSONWriter) {
        writer.field("reminded", count)
    }

    /// `announcements` and `has_more`: the `announcements` reply and the body of
    /// `GET /api/v1/announcements`.
    public static func writeAnnouncementPage(_ page: Hub.AnnouncementPage, into writer: inout JSONWriter) {
        switch page {
        case .received(let announcements, let hasMore):
            writeArray("announcements", announcements, into: &writer) { writer, item in
                writeAnnouncementObject(item.announcement, receipt: (item.readAt, item.ackedAt), into: &writer)
            }
            writer.field("has_more", hasMore)
        case .posted(let announcements, let hasMore):
            writeArray("announcements", announcements, into: &writer) { writer, item in
                writer.beginObject()
                writeAnnouncement(item.0, into: &writer)
                writeStatsObject(item.1, into: &writer)
                writer.endObject()
            }
            writer.field("has_more", hasMore)
        }
    }
}
