import DugnadCore
import PostgresNIO

/// Records a message's mentions in the writer's transaction, as the SQLite engine does
/// (`SQLiteMentions`): the `mentions` rows behind each member's unread count, and the
/// message's `mentions` column.
enum PostgresMentions {
    /// Keeps of `candidates` the members of the message's channel (a mention of anyone
    /// else is left out, so it reveals nothing), adds a row for each member mentioned for
    /// the first time in this message (every member but the author for `channelWide`),
    /// and fills `message.mentions`, `mentionsChannel` and `newlyMentioned`.
    static func record(
        in message: inout StoredMessage, candidates: [String], channelWide: Bool, _ db: BlockingConnection
    ) throws {
        var kept: [String] = []
        var newly: [String] = []
        if !candidates.isEmpty {
            let members = Set(
                try db.column(
                    """
                    SELECT user_id FROM memberships
                    WHERE channel = \(message.channel) AND user_id = ANY(\(candidates)::text[])
                    """, as: String.self))
            kept = candidates.filter(members.contains)
            let inserted = Set(
                try db.column(
                    """
                    INSERT INTO mentions (user_id, channel, seq)
                    SELECT id, \(message.channel), \(message.seq) FROM unnest(\(kept)::text[]) AS id
                    ON CONFLICT DO NOTHING RETURNING user_id
                    """, as: String.self))
            newly = kept.filter(inserted.contains)
        }
        if channelWide {
            newly += try db.column(
                """
                INSERT INTO mentions (user_id, channel, seq)
                SELECT user_id, channel, \(message.seq) FROM memberships
                WHERE channel = \(message.channel) AND user_id <> \(message.fromID)
                ON CONFLICT DO NOTHING RETURNING user_id
                """, as: String.self)
        }
        _ = try db.execute(
            """
            UPDATE messages SET mentions = \(Mentions.storedText(kept)), mentions_channel = \(channelWide)
            WHERE id = \(message.id)
            """)
        message.mentions = kept
        message.mentionsChannel = channelWide
        message.newlyMentioned = newly
    }
}
