import DugnadProtocol
import Foundation
import GRDB
import Testing

@testable import DugnadCore
@testable import DugnadSQLite

/// The engagement figures of the SQLite store: its own migration. The figures of a known
/// scenario run on SQLite and PostgreSQL alike in `StoreBehaviour`; the date arithmetic is
/// `EngagementWindow`'s.
@Suite struct SQLiteEngagementTests {
    private static let day: Int64 = 86_400_000
    private static let hour: Int64 = 3_600_000

    @Test func sessionsRecordedBeforeTheMigrationCountAsActiveDays() throws {
        try withTemporaryFile { path in
            let day = Self.day
            let hour = Self.hour
            do {
                // A database as the first release left it.
                let store = try SQLiteStore(path: path)
                try SQLiteStore.migrator.migrate(store.pool, upTo: "v1-hub")
                try store.pool.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO sessions (id, user_id, connected_at, disconnected_at, last_alive) VALUES
                                ('s1', 'u1', ?, ?, ?),
                                ('s2', 'u2', ?, NULL, ?)
                            """,
                        arguments: [7 * day + hour, 9 * day + hour, 9 * day + hour, 9 * day + 5 * hour, 10 * day + hour])
                    try db.execute(
                        sql: """
                            INSERT INTO channels (name, kind, title, epoch, last_seq, created_at)
                            VALUES ('general', 'public', 'General', 'e_x', 0, 1);
                            INSERT INTO memberships (user_id, channel, read_seq, joined_at) VALUES ('u1', 'general', 0, 1);
                            """)
                }
            }
            let store = try SQLiteStore(path: path)
            try store.prepare()
            let stats = try store.engagement(days: 4, now: 10 * day + 12 * hour)
            #expect(stats.daily.map(\.activeUsers) == [1, 1, 2, 1])
            #expect(stats.daily.first?.day == "1970-01-08")
            // The crash-left session was closed at its last heartbeat, and the member kept.
            #expect(try rowCount(store, "SELECT disconnected_at FROM sessions WHERE id = 's2'") == 10 * day + hour)
            #expect(try store.memberships(userID: "u1").map(\.readSeq) == [0])
            #expect(try rowCount(store, "SELECT count(*) FROM memberships WHERE read_at IS NULL") == 1)
        }
    }
}

// MARK: - Helpers

private func message(_ id: String, _ channel: String, from: String, ts: Int64) -> NewMessage {
    NewMessage(
        id: id, channel: channel, fromID: from, fromName: from.uppercased(), body: "hi", metaJSON: nil, replyTo: nil,
        clientID: nil, ts: ts)
}

func withTemporaryFile(_ body: (String) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("dugnad-store-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try body(directory.appendingPathComponent("hub.sqlite").path)
}
