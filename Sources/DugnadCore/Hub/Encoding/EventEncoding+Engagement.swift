import DugnadProtocol

/// The engagement figures of `GET /api/v1/stats`.
extension EventEncoding {
    /// `days`, `from`, `to`, then the per-channel, per-announcement and per-day figures.
    public static func writeEngagement(_ stats: EngagementStats, days: Int, into writer: inout JSONWriter) {
        writer.field("days", days)
        writer.field("from", stats.from)
        writer.field("to", stats.to)
        writeObjects("channels", stats.channels, into: &writer) { writer, channel in
            writer.field("channel", channel.channel)
            writer.field("messages", channel.messages)
            writer.field("active_posters", channel.activePosters)
            writer.field("active_readers", channel.activeReaders)
        }
        writeObjects("announcements", stats.announcements, into: &writer) { writer, announcement in
            writer.field("id", announcement.id)
            writer.field("title", announcement.title)
            writer.field("ts", announcement.ts)
            writer.field("audience", announcement.audience)
            writer.field("read", announcement.read)
            writer.field("acked", announcement.acked)
            writer.field("read_pct", percent(announcement.read, of: announcement.audience))
            writer.field("ack_pct", percent(announcement.acked, of: announcement.audience))
            writer.key("median_ms_to_read")
            if let median = announcement.medianMillisToRead { writer.int(median) } else { writer.null() }
        }
        writeObjects("daily_active_users", stats.daily, into: &writer) { writer, day in
            writer.field("day", day.day)
            writer.field("users", day.activeUsers)
        }
    }

    /// Percent with one decimal; 0 for an empty audience.
    static func percent(_ part: Int, of whole: Int) -> Double {
        guard whole > 0 else { return 0 }
        return (Double(part) * 1000 / Double(whole)).rounded() / 10
    }
}
