import DugnadCore
import GRDB

/// Records a message's mentions in the writer's transaction: the `mentions` rows behind
/// each member's unread count, and the message's `mentions` column.
enum SQLiteMentions {
    /// Keeps of `candidates` the members of the message's channel (a mention of anyone
    /// else is left out, so it reveals nothing), adds a row for each member mentioned for
    /// the first time in this message (every member but the author for `channelWide`),
    /// and fills `message.mentions`, `mentionsChannel` and `newlyMentioned`.
    static func record(in message: inout StoredMessage, candidates: [String], channelWide: Bool, _ db: Database) throws {
        let isMember = try db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM memberships WHERE user_id = ? AND channel = ?)")
        let insert = try db.cachedStatement(
            sql: "INSERT INTO mentions (user_id, channel, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
        var kept: [String] = []
        var newly: [String] = []
        for id in candidates where try Bool.fetchOne(isMember, arguments: [id, message.channel]) == true {
            kept.append(id)
            try insert.execute(arguments: [id, message.channel, message.seq])
            if db.changesCount > 0 { newly.append(id) }
        }
        if channelWide {
            let unmentioned = try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT m.user_id FROM memberships m
                        WHERE m.channel = ? AND m.user_id != ?
                            AND NOT EXISTS (
                                SELECT 1 FROM mentions mn WHERE mn.user_id = m.user_id AND mn.channel = m.channel AND mn.seq = ?)
                        """),
                arguments: [message.channel, message.fromID, message.seq])
            for id in unmentioned { try insert.execute(arguments: [id, message.channel, message.seq]) }
            newly.append(contentsOf: unmentioned)
        }
        try db.executeCached(
            sql: "UPDATE messages SET mentions = ?, mentions_channel = ? WHERE id = ?",
            arguments: [Mentions.storedText(kept), channelWide, message.id])
        message.mentions = kept
        message.mentionsChannel = channelWide
        message.newlyMentioned = newly
    }
}
