import DugnadProtocol
import GRDB
import Testing

@testable import DugnadCore
@testable import DugnadSQLite

/// v9-edits on a database that already has messages: they read back unedited, undeleted
/// and without mentions, and they can be edited, deleted and recovered like new ones.
@Suite struct SQLiteEditsMigrationTests {
    @Test func messagesStoredBeforeTheMigrationReadBackUnchangedAndCanBeEdited() throws {
        try withTemporaryFile { path in
            do {
                let store = try SQLiteStore(path: path)
                try SQLiteStore.migrator.migrate(store.pool, upTo: "v7-directory")
                try store.pool.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO channels (name, kind, title, epoch, last_seq, created_at)
                            VALUES ('kaffe', 'public', 'Kaffe', 'e_x', 2, 1);
                            INSERT INTO messages (id, channel, seq, from_id, from_name, body, ts)
                            VALUES ('m_1', 'kaffe', 1, 'kari', 'Kari', '@ola hei', 10),
                                   ('m_2', 'kaffe', 2, 'kari', 'Kari', 'hemmelig', 11);
                            """)
                }
            }
            let store = try SQLiteStore(path: path)
            try store.prepare()
            let before = try store.messages(channel: "kaffe", page: .latest(limit: 10)).messages
            #expect(before.map(\.body) == ["@ola hei", "hemmelig"])
            #expect(before.allSatisfy { $0.editedAt == nil && !$0.deleted && $0.mentions.isEmpty && !$0.mentionsChannel })
            #expect(try store.changedMessages(channel: "kaffe", since: 2, limit: 10).messages.isEmpty)

            let results = try store.write([
                .editMessage(MessageEdit(messageID: "m_1", body: "hei igjen", at: 20)),
                .deleteMessage(messageID: "m_2", at: 21),
                .deleteMessage(messageID: "m_2", at: 22),
                .editMessage(MessageEdit(messageID: "m_2", body: "tilbake", at: 23)),
            ])
            guard case .success(.changedMessage(let edited, changed: true)) = results[0] else {
                Issue.record("the edit: \(results[0])")
                return
            }
            #expect(edited.body == "hei igjen")
            #expect(edited.editedAt == 20)
            guard case .success(.changedMessage(_, changed: false)) = results[2] else {
                Issue.record("a second deletion changes nothing: \(results[2])")
                return
            }
            guard case .failure(let refused) = results[3] else {
                Issue.record("an edit of a deleted message: \(results[3])")
                return
            }
            #expect(refused.kind == .notFound)
            let changed = try store.changedMessages(channel: "kaffe", since: 2, limit: 10).messages
            #expect(changed.map(\.id) == ["m_1", "m_2"])
            #expect(changed.last?.deleted == true)
            // Gone from the file, not hidden.
            let body = try store.pool.read { db in try String.fetchOne(db, sql: "SELECT body FROM messages WHERE id = 'm_2'") }
            #expect(body == "")
            #expect(try store.changedMessages(channel: "kaffe", since: 2, limit: 1).hasMore)
            #expect(try store.changedMessages(channel: "kaffe", since: 3, limit: 10).messages.isEmpty)
        }
    }
}
