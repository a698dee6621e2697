import DugnadProtocol

/// The channel directory: the `channels` reply, `GET /api/v1/channels`, and a described
/// channel.
extension EventEncoding {
    /// `{name, kind, title, description, member_count, joined, last_activity,
    /// unread_mentions}`: one entry of the `channels` reply (contract §9). `description` and
    /// `last_activity` are null when there is none; `unread_mentions` counts the caller's mentions after its read position.
    public static func writeDirectoryEntry(_ entry: DirectoryEntry, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("name", entry.channel.name)
        writer.field("kind", entry.channel.kind.rawValue)
        writer.field("title", entry.channel.title)
        writer.field("description", entry.channel.description)
        writer.field("member_count", entry.memberCount)
        writer.field("joined", entry.membership != nil)
        writeLastActivity(entry.lastActivity, into: &writer)
        writer.field("unread_mentions", entry.unreadMentions)
        writer.endObject()
    }

    /// The `channels` reply's fields: `channels` and `has_more`.
    public static func writeDirectoryPage(_ entries: [DirectoryEntry], hasMore: Bool, into writer: inout JSONWriter) {
        writeArray("channels", entries, into: &writer) { writer, entry in writeDirectoryEntry(entry, into: &writer) }
        writer.field("has_more", hasMore)
    }

    /// The body of `GET /api/v1/channels`: each channel as it always was (`name`, `kind`,
    /// `title`, `epoch`, `last_seq`) and, added for the directory, `description`,
    /// `member_count`, `last_activity` and `joined`.
    public static func writeListedChannelPage(_ entries: [DirectoryEntry], hasMore: Bool, into writer: inout JSONWriter) {
        writeArray("channels", entries, into: &writer) { writer, entry in
            writer.beginObject()
            writer.field("name", entry.channel.name)
            writer.field("kind", entry.channel.kind.rawValue)
            writer.field("title", entry.channel.title)
            writer.field("epoch", entry.channel.epoch)
            writer.field("last_seq", entry.channel.lastSeq)
            writer.field("description", entry.channel.description)
            writer.field("member_count", entry.memberCount)
            writeLastActivity(entry.lastActivity, into: &writer)
            writer.field("joined", entry.membership != nil)
            writer.endObject()
        }
        writer.field("has_more", hasMore)
    }

    /// `channel`: `{name, kind, title, epoch, last_seq, description}`, the reply to
    /// `describe` and the body of `PUT /api/v1/channels/{name}`.
    public static func writeDescribedChannel(_ channel: ChannelRecord, into writer: inout JSONWriter) {
        writer.key("channel")
        writer.beginObject()
        writer.field("name", channel.name)
        writer.field("kind", channel.kind.rawValue)
        writer.field("title", channel.title)
        writer.field("epoch", channel.epoch)
        writer.field("last_seq", channel.lastSeq)
        writer.field("description", channel.description)
        writer.endObject()
    }

    private static func writeLastActivity(_ lastActivity: Int64?, into writer: inout JSONWriter) {
        writer.key("last_activity")
        if let lastActivity { writer.int(lastActivity) } else { writer.null() }
    }
}
