import DugnadProtocol

/// Channels: the channel object and the `join` reply (the directory's shapes are in
/// `EventEncoding+Directory.swift`).
extension EventEncoding {
    /// `{name, kind, title, epoch}` as in a `join` reply; with `last_seq` (welcome, HTTP
    /// listings) and the user's `read_seq` (welcome) when asked.
    public static func writeChannel(
        _ channel: ChannelRecord, withLastSeq: Bool = false, readSeq: Int64? = nil, unreadMentions: Int? = nil,
        into writer: inout JSONWriter
    ) {
        writer.beginObject()
        writer.field("name", channel.name)
        writer.field("kind", channel.kind.rawValue)
        writer.field("title", channel.title)
        writer.field("epoch", channel.epoch)
        if withLastSeq { writer.field("last_seq", channel.lastSeq) }
        if let readSeq { writer.field("read_seq", readSeq) }
        if let unreadMentions { writer.field("unread_mentions", unreadMentions) }
        writer.endObject()
    }

    /// The `join` reply: the channel, where it and the user stand, the messages the client
    /// asked for (missed ones after `since`, or the latest `history`), and who is present.
    /// `truncated` only when the client sent `since`, `has_more` (an addition: older
    /// messages exist before the page) only when it asked for `history` (nil leaves each out).
    public static func writeJoined(
        _ channel: ChannelRecord, lastSeq: Int64, readSeq: Int64, messages: [StoredMessage], recovered: Bool,
        truncated: Bool?, hasMore: Bool? = nil, changes: (messages: [StoredMessage], truncated: Bool)? = nil,
        presence: Presence, into writer: inout JSONWriter
    ) {
        writer.key("channel")
        writeChannel(channel, into: &writer)
        writer.field("last_seq", lastSeq)
        writer.field("read_seq", readSeq)
        writer.key("messages")
        writeMessages(messages, into: &writer)
        writer.field("recovered", recovered)
        if let truncated { writer.field("truncated", truncated) }
        if let hasMore { writer.field("has_more", hasMore) }
        if let changes { writeChanges(changes.messages, truncated: changes.truncated, into: &writer) }
        writePresence(presence, into: &writer)
    }
}
