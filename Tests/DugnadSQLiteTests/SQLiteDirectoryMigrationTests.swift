import DugnadProtocol
import GRDB
import Testing

@testable import DugnadCore
@testable import DugnadSQLite

/// v7-directory on a database that already has channels: their folded search keys are
/// filled in Swift, so the directory's query finds them as it finds new ones.
@Suite struct SQLiteDirectoryMigrationTests {
    @Test func channelsMadeBeforeTheMigrationAreFoundByTheQuery() throws {
        try withTemporaryFile { path in
            do {
                let store = try SQLiteStore(path: path)
                try SQLiteStore.migrator.migrate(store.pool, upTo: "v6-announcement-until")
                try store.pool.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO channels (name, kind, title, epoch, last_seq, created_at)
                            VALUES ('aarsmote', 'public', 'Årsmøtet 2027', 'e_x', 0, 1)
                            """)
                }
            }
            let store = try SQLiteStore(path: path)
            try store.prepare()
            let found = try store.channelDirectory(
                DirectoryPageRequest(userID: "ola", folded: ChannelSearchKey.fold("ÅRSMØ"), afterName: nil, limit: 10))
            #expect(found.entries.map(\.channel.name) == ["aarsmote"])
            #expect(found.entries.first?.channel.description == nil)
        }
    }
}
