import DugnadProtocol

/// The JSON of `GET /api/v1/stats`.
public enum EngagementEncoding {
    public static func write(_ stats: EngagementStats, days: Int, into writer: inout JSONWriter) {
        writer.key("days")
        writer.int(days)
        writer.key("from")
        writer.int(stats.from)
        writer.key("to")
        writer.int(stats.to)
        writer.key("channels")
        writer.beginArray()
        for channel in stats.channels {
            writer.beginObject()
            writer.key("channel")
            writer.string(channel.channel)
            writer.key("messages")
            writer.int(channel.messages)
            writer.key("active_posters")
            writer.int(channel.activePosters)
            writer.key("active_readers")
            writer.int(channel.activeReaders)
            writer.endObject()
        }
        writer.endArray()
        writer.key("announcements")
        writer.beginArray()
        for announcement in stats.announcements {
            writer.beginObject()
            writer.key("id")
            writer.string(announcement.id)
            writer.key("title")
            writer.string(announcement.title)
            writer.key("ts")
            writer.int(announcement.ts)
            writer.key("audience")
            writer.int(announcement.audience)
            writer.key("read")
            writer.int(announcement.read)
            writer.key("acked")
            writer.int(announcement.acked)
            writer.key("read_pct")
            writer.double(percent(announcement.read, of: announcement.audience))
            writer.key("ack_pct")
            writer.double(percent(announcement.acked, of: announcement.audience))
            writer.key("median_ms_to_read")
            if let median = announcement.medianMillisToRead { writer.int(median) } else { writer.null() }
            writer.endObject()
        }
        writer.endArray()
        writer.key("daily_active_users")
        writer.beginArray()
        for day in stats.daily {
            writer.beginObject()
            writer.key("day")
            writer.string(day.day)
            writer.key("users")
            writer.int(day.activeUsers)
            writer.endObject()
        }
        writer.endArray()
    }

    /// Percent with one decimal; 0 for an empty audience.
    static func percent(_ part: Int, of whole: Int) -> Double {
        guard whole > 0 else { return 0 }
        return (Double(part) * 1000 / Double(whole)).rounded() / 10
    }
}
