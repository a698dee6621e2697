import DugnadCore
import PostgresNIO

/// Edits and deletions, as in the SQLite engine: the body changes (or goes) in place, and
/// `changed_at_seq` records the channel's newest committed seq at that moment, which is
/// what recovery with `since` looks for. The message row is locked first, so that an edit
/// and a deletion on two nodes at once are applied one after the other.
extension PostgresWriteTransaction {
    func editMessage(_ edit: MessageEdit) throws -> WriteOutcome {
        guard var message = try lockedMessage(edit.messageID), !message.deleted else {
            throw StoreError(.notFound, "no message '\(edit.messageID)' to edit")
        }
        _ = try db.execute(
            """
            UPDATE messages SET body = \(edit.body), edited_at = \(edit.at),
                changed_at_seq = (SELECT last_seq FROM channels WHERE name = messages.channel)
            WHERE id = \(edit.messageID)
            """)
        message.body = edit.body
        message.editedAt = edit.at
        try PostgresMentions.record(in: &message, candidates: edit.mentionCandidates, channelWide: edit.mentionsChannel, db)
        return .changedMessage(message, changed: true)
    }

    /// The body becomes empty (so that nothing indexing it, full-text search included,
    /// keeps it), and the meta, mentions and reactions go with it.
    func deleteMessage(messageID: String, at: Int64) throws -> WriteOutcome {
        guard let message = try lockedMessage(messageID) else {
            throw StoreError(.notFound, "no message '\(messageID)'")
        }
        guard !message.deleted else { return .changedMessage(message, changed: false) }
        _ = try db.execute(
            """
            UPDATE messages SET body = '', meta = NULL, deleted_at = \(at), edited_at = NULL, mentions = NULL,
                mentions_channel = false, changed_at_seq = (SELECT last_seq FROM channels WHERE name = messages.channel)
            WHERE id = \(messageID)
            """)
        _ = try db.execute("DELETE FROM mentions WHERE channel = \(message.channel) AND seq = \(message.seq)")
        _ = try db.execute("DELETE FROM reactions WHERE message_id = \(messageID)")
        return .changedMessage(message.asDeleted, changed: true)
    }

    private func lockedMessage(_ id: String) throws -> StoredMessage? {
        try db.row("SELECT \(unescaped: PostgresStore.messageColumns) FROM messages WHERE id = \(id) FOR UPDATE")
            .map(PostgresStore.storedMessage)
    }
}
