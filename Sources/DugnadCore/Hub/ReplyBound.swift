import DugnadProtocol

/// Replies that carry many messages (a history page, a join's recovery or history) are
/// bounded in bytes as well as in count: a page of 200 messages of 16 KiB each would be a
/// 3 MB frame, larger than a connection's outbound limit, and a client that asked for it
/// again after its 4008 would be closed again, for ever. Messages are dropped from the far
/// end of the page until the encoded messages fit `maxBytes`; the reply then says there is
/// more (`has_more`, or `truncated` for recovery) and the client pages on. At least one
/// message always goes out, so that paging never stalls (one message is within the frame
/// limit by construction: its body and meta are bounded).
public enum ReplyBound {
    /// Which end of the page to keep when it must shrink: the newest (a page ending at the
    /// present or before a seq: older ones are "more") or the oldest (recovery after a
    /// seq: newer ones are "more").
    public enum Keep: Sendable {
        case newest
        case oldest
    }

    /// The messages that fit, and whether any were dropped.
    public static func fit(_ messages: [StoredMessage], keep: Keep, maxBytes: Int) -> (messages: [StoredMessage], trimmed: Bool) {
        let ordered: [StoredMessage] = keep == .newest ? messages.reversed() : messages
        let count = fittingPrefix(ordered, maxBytes: maxBytes) { message, writer in
            EventEncoding.writeMessageObject(message, into: &writer)
        }
        guard count < messages.count else { return (messages, false) }
        let kept = keep == .newest ? Array(messages.suffix(count)) : Array(messages.prefix(count))
        return (kept, true)
    }

    /// The welcome's announcements, or a page of received ones, that fit `maxBytes`, in
    /// their order (the unacknowledged ones first in a welcome), and whether any were left
    /// out: the client then lists the rest with `announcements` (`received: true`).
    public static func fit(_ announcements: [UserAnnouncement], maxBytes: Int) -> (
        announcements: [UserAnnouncement], trimmed: Bool
    ) {
        let count = fittingPrefix(announcements, maxBytes: maxBytes) { pending, writer in
            EventEncoding.writeAnnouncementObject(
                pending.announcement, receipt: (pending.readAt, pending.ackedAt), into: &writer)
        }
        return (Array(announcements.prefix(count)), count < announcements.count)
    }

    /// A page of posted announcements with their figures that fits `maxBytes` (50 bodies of
    /// 16 KiB, escaped, would otherwise be a frame of up to 5 MB).
    public static func fit(_ posted: [(AnnouncementRecord, AnnouncementStats)], maxBytes: Int) -> (
        posted: [(AnnouncementRecord, AnnouncementStats)], trimmed: Bool
    ) {
        let count = fittingPrefix(posted, maxBytes: maxBytes) { item, writer in
            writer.beginObject()
            EventEncoding.writeAnnouncement(item.0, into: &writer)
            EventEncoding.writeStatsObject(item.1, into: &writer)
            writer.endObject()
        }
        return (Array(posted.prefix(count)), count < posted.count)
    }

    /// A page of the channel directory that fits `maxBytes` (200 entries with descriptions
    /// of 1,000 characters, escaped, could reach a megabyte).
    public static func fit(_ entries: [DirectoryEntry], maxBytes: Int) -> (entries: [DirectoryEntry], trimmed: Bool) {
        let count = fittingPrefix(entries, maxBytes: maxBytes) { entry, writer in
            EventEncoding.writeDirectoryEntry(entry, into: &writer)
        }
        return (Array(entries.prefix(count)), count < entries.count)
    }

    /// Search results that fit `maxBytes`, best first (50 bodies of 16 KiB, escaped, would
    /// be a frame of megabytes): the worst ranked are left out.
    public static func fit(_ hits: [SearchHit], maxBytes: Int) -> (hits: [SearchHit], trimmed: Bool) {
        let count = fittingPrefix(hits, maxBytes: maxBytes) { hit, writer in EventEncoding.writeSearchHit(hit, into: &writer) }
        return (Array(hits.prefix(count)), count < hits.count)
    }

    /// How many of `items`, from the first, fit `maxBytes` once written (at least one).
    private static func fittingPrefix<Item>(
        _ items: [Item], maxBytes: Int, write: (Item, inout JSONWriter) -> Void
    ) -> Int {
        var total = 0
        var count = 0
        for item in items {
            var writer = JSONWriter(capacity: 512)
            write(item, &writer)
            let size = writer.bytes.count + 1
            if count > 0, total + size > maxBytes { break }
            total += size
            count += 1
        }
        return count
    }
}
