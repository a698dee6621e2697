import DugnadProtocol
import Foundation
import GRDB
import Testing

@testable import DugnadCore

/// The engagement figures of the SQLite store on scenarios whose answers are known.
@Suite struct SQLiteEngagementTests {
    private static let day: Int64 = 86_400_000
    private static let hour: Int64 = 3_600_000

    @Test func engagementFiguresOfAKnownScenario() throws {
        try withFreshStore { store in
            let day = Self.day
            let hour = Self.hour
            // A minute ahead of the clock: mark_read stamps the time it is stored, which
            // must fall inside the window that ends at `now`.
            let now = Clock.nowMillis() + 60_000
            let from = now - 3 * day
            try addUsers(store, "u1", "u2", "u3", "u4", "u5", "u6")
            try addChannels(store, "general", "random", "quiet", "idle")

            // Channels. general: 3 messages in the window by u1 and u2 (u3's is older);
            // readers u1 and u2 (by posting) and u4 (mark_read), not u3 (read before).
            // random: 1 message, poster and reader u3. quiet: only a reader (u5; the bot's
            // message is older). idle: nothing in the window.
            try expectAllSucceed(
                store,
                [
                    .join(userID: "u1", channel: "general", at: 1),
                    .join(userID: "u2", channel: "general", at: 1),
                    .join(userID: "u3", channel: "general", at: 1),
                    .join(userID: "u4", channel: "general", at: 1),
                    .join(userID: "u3", channel: "random", at: 1),
                    .join(userID: "u5", channel: "quiet", at: 1),
                    .join(userID: "u6", channel: "idle", at: 1),
                    .publish(message("g0", "general", from: "u3", ts: from - hour)),
                    .publish(message("g1", "general", from: "u1", ts: from + hour)),
                    .publish(message("g2", "general", from: "u1", ts: now - 2 * hour)),
                    .publish(message("g3", "general", from: "u2", ts: now - hour)),
                    .publish(message("r1", "random", from: "u3", ts: now - 3 * hour)),
                    .publish(message("q0", "quiet", from: "bot", ts: from - 2 * hour)),
                    .publish(message("i0", "idle", from: "u6", ts: from - 3 * hour)),
                    .markRead(userID: "u4", channel: "general", seq: 4),
                    .markRead(userID: "u5", channel: "quiet", seq: 1),
                ])
            // A mark_read that does not move the position does not make a read.
            let readAt = try rowCount(store, "SELECT read_at FROM memberships WHERE user_id = 'u4'")
            try expectAllSucceed(store, [.markRead(userID: "u4", channel: "general", seq: 2)])
            #expect(try rowCount(store, "SELECT read_at FROM memberships WHERE user_id = 'u4'") == readAt)

            // Announcements. "a1": 4 reads after 1,000, 3,000, 6,001 and 10,000 ms: an even
            // count, median (3,000 + 6,001) / 2 rounded down. "a2": 3 reads, median 200.
            // "a3": nobody read it. "a0" is older than the window.
            let a1 = from + 2 * hour
            let a2 = now - 90 * 60_000
            try expectAllSucceed(
                store,
                [
                    .announce(newAnnouncement("a0", from: "u1", ts: from - hour)),
                    .announce(newAnnouncement("a1", from: "u1", title: "All hands", requireAck: true, ts: a1)),
                    .acknowledge(announcementID: "a1", userID: "u5", kind: .read, at: a1 + 10_000),
                    .acknowledge(announcementID: "a1", userID: "u2", kind: .read, at: a1 + 1_000),
                    .acknowledge(announcementID: "a1", userID: "u4", kind: .read, at: a1 + 6_001),
                    .acknowledge(announcementID: "a1", userID: "u3", kind: .ack, at: a1 + 3_000),
                    .announce(
                        newAnnouncement("a2", from: "u2", title: "General only", audience: .channels(["general"]), ts: a2)
                    ),
                    .acknowledge(announcementID: "a2", userID: "u1", kind: .read, at: a2 + 100),
                    .acknowledge(announcementID: "a2", userID: "u3", kind: .ack, at: a2 + 300),
                    .acknowledge(announcementID: "a2", userID: "u4", kind: .read, at: a2 + 200),
                    .announce(newAnnouncement("a3", from: "u1", title: "Unread", ts: now - 30 * 60_000)),
                ])

            // Sessions, written in time order as the hub writes them. Days: D2 is the
            // first of the 3 days listed, D0 today.
            let today = (now / day) * day
            let (d0, d1, d2, d3) = (today, today - day, today - 2 * day, today - 3 * day)
            let elapsed = now - d0
            try expectAllSucceed(
                store,
                [
                    // Before the window.
                    .openSession(id: "s0", userID: "u5", at: d0 - 5 * day),
                    .closeSession(id: "s0", userID: "u5", at: d0 - 5 * day + hour),
                    // u3 connects the day before D2 and stays connected until now.
                    .openSession(id: "s4", userID: "u3", at: d3 + 20 * hour),
                    .openSession(id: "s1", userID: "u1", at: d2 + 10 * hour),
                    .closeSession(id: "s1", userID: "u1", at: d2 + 11 * hour),
                    // u2 is connected across midnight into D1.
                    .openSession(id: "s2", userID: "u2", at: d2 + 23 * hour),
                    .heartbeat(at: d1 + hour),
                    .closeSession(id: "s2", userID: "u2", at: d1 + 2 * hour),
                    // Today: u4, u2 twice, u6.
                    .openSession(id: "s5", userID: "u4", at: d0 + elapsed / 10),
                    .closeSession(id: "s5", userID: "u4", at: d0 + elapsed / 9),
                    .openSession(id: "s6", userID: "u2", at: d0 + elapsed / 8),
                    .closeSession(id: "s6", userID: "u2", at: d0 + elapsed / 7),
                    .openSession(id: "s7", userID: "u2", at: d0 + elapsed / 6),
                    .closeSession(id: "s7", userID: "u2", at: d0 + elapsed / 5),
                    .openSession(id: "s8", userID: "u6", at: d0 + elapsed / 4),
                ])

            let stats = try store.engagement(days: 3, now: now)
            #expect(stats.from == from && stats.to == now)
            #expect(
                stats.channels == [
                    .init(channel: "general", messages: 3, activePosters: 2, activeReaders: 3),
                    .init(channel: "random", messages: 1, activePosters: 1, activeReaders: 1),
                    .init(channel: "quiet", messages: 0, activePosters: 0, activeReaders: 1),
                ])
            #expect(
                stats.announcements == [
                    .init(
                        id: "a3", title: "Unread", ts: now - 30 * 60_000, audience: 5, read: 0, acked: 0,
                        medianMillisToRead: nil),
                    .init(id: "a2", title: "General only", ts: a2, audience: 3, read: 3, acked: 1, medianMillisToRead: 200),
                    .init(id: "a1", title: "All hands", ts: a1, audience: 5, read: 4, acked: 1, medianMillisToRead: 4_500),
                ])
            #expect(
                stats.daily == [
                    .init(day: isoDate(d2), activeUsers: 3),
                    .init(day: isoDate(d1), activeUsers: 2),
                    .init(day: isoDate(d0), activeUsers: 4),
                ])

            // One day: today only, and nothing posted since u2's message an hour ago but
            // the unread announcement.
            let lastDay = try store.engagement(days: 1, now: now)
            #expect(lastDay.daily == [.init(day: isoDate(d0), activeUsers: 4)])
            #expect(lastDay.announcements.map(\.id) == ["a3", "a2"])
            #expect(lastDay.channels.map(\.channel) == ["general", "random", "quiet"])
            #expect(lastDay.channels.first?.messages == 2)
        }
    }

    @Test func emptyStoreHasZeroDaysAndNoRows() throws {
        try withFreshStore { store in
            let now: Int64 = 20_000 * Self.day + 5
            let stats = try store.engagement(days: 2, now: now)
            #expect(stats.channels.isEmpty && stats.announcements.isEmpty)
            #expect(stats.daily == [.init(day: "2024-10-03", activeUsers: 0), .init(day: "2024-10-04", activeUsers: 0)])
        }
    }

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

    @Test func utcDatesMatchFoundation() {
        #expect(SQLiteStore.utcDate(daysSinceEpoch: 0) == "1970-01-01")
        #expect(SQLiteStore.utcDate(daysSinceEpoch: 19_782) == "2024-02-29")
        #expect(SQLiteStore.utcDate(daysSinceEpoch: -1) == "1969-12-31")
        for days in stride(from: Int64(0), through: 60_000, by: 37) {
            #expect(SQLiteStore.utcDate(daysSinceEpoch: days) == isoDate(days * Self.day))
        }
    }
}

// MARK: - Helpers

private func message(_ id: String, _ channel: String, from: String, ts: Int64) -> NewMessage {
    NewMessage(
        id: id, channel: channel, fromID: from, fromName: from.uppercased(), body: "hi", metaJSON: nil, replyTo: nil,
        clientID: nil, ts: ts)
}

private func expectAllSucceed(_ store: SQLiteStore, _ ops: [WriteOp]) throws {
    for (index, result) in try store.write(ops).enumerated() {
        if case .failure(let error) = result {
            Issue.record("op \(index) (\(ops[index])) failed: \(error)")
        }
    }
}

/// `YYYY-MM-DD` of a time in UTC, through Foundation: an independent check of the store's
/// arithmetic.
private func isoDate(_ millis: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.formatOptions = [.withFullDate]
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(millis / 1_000)))
}

private func withTemporaryFile(_ body: (String) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("dugnad-store-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try body(directory.appendingPathComponent("hub.sqlite").path)
}
