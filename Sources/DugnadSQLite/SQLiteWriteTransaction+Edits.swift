import DugnadCore
import GRDB

/// Edits and deletions: the body changes (or goes) in place, and `changed_at_seq`
/// records the channel's newest seq at that moment, which is what recovery with `since`
/// looks for (`SQLiteStore.changedMessages`).
extension SQLiteWriteTransaction {
    func editMessage(_ edit: MessageEdit) throws -> WriteOutcome {
        guard var message = try SQLiteStore.fetchMessage(db, id: edit.messageID), !message.deleted else {
            throw StoreError(.notFound, "no message '\(edit.messageID)' to edit")
        }
        try db.executeCached(
            sql: """
                UPDATE messages SET body = ?, edited_at = ?,
                    changed_at_seq = (SELECT last_seq FROM channels WHERE name = messages.channel)
                WHERE id = ?
                """,
            arguments: [edit.body, edit.at, edit.messageID])
        message.body = edit.body
        message.editedAt = edit.at
        try SQLiteMentions.record(
            in: &message, candidates: edit.mentionCandidates, channelWide: edit.mentionsChannel, db)
        return .changedMessage(message, changed: true)
    }

    /// The body becomes empty (so that nothing indexing it, full-text search included,
    /// keeps it), and the meta, mentions and reactions go with it.
    func deleteMessage(messageID: String, at: Int64) throws -> WriteOutcome {
        guard let message = try SQLiteStore.fetchMessage(db, id: messageID) else {
            throw StoreError(.notFound, "no message '\(messageID)'")
        }
        guard !message.deleted else { return .changedMessage(message, changed: false) }
        try db.executeCached(
            sql: """
                UPDATE messages SET body = '', meta = NULL, deleted_at = ?, edited_at = NULL, mentions = NULL,
                    mentions_channel = 0, changed_at_seq = (SELECT last_seq FROM channels WHERE name = messages.channel)
                WHERE id = ?
                """,
            arguments: [at, messageID])
        try db.executeCached(
            sql: "DELETE FROM mentions WHERE channel = ? AND seq = ?", arguments: [message.channel, message.seq])
        try db.executeCached(sql: "DELETE FROM reactions WHERE message_id = ?", arguments: [messageID])
        return .changedMessage(message.asDeleted, changed: true)
    }
}
