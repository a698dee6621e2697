import DugnadCore
import DugnadProtocol
import Testing

/// The engagement figures on scenarios whose answers are known, ported from the SQLite
/// store's tests.
extension StoreBehaviour {
    static let engagement: [Behaviour] = [
        Behaviour(name: "engagement figures of a known scenario", check: engagementFiguresOfAKnownScenario),
        Behaviour(name: "an empty store has zero days and no rows", check: emptyStoreHasZeroDaysAndNoRows),
        Behaviour(
            name: "channel figures of windows that begin and end inside days",
            check: channelFiguresOfWindowsThatBeginAndEndInsideDays),
    ]

    private static let day: Int64 = 86_400_000
    private static let hour: Int64 = 3_600_000

    static func engagementFiguresOfAKnownScenario(_ harness: any StoreHarness) throws {
        let store = harness.store
        // A minute ahead of the clock: mark_read stamps the time it is stored, which must
        // fall inside the window that ends at `now`.
        let now = WallClock.nowMillis() + 60_000
        let from = now - 3 * day
        try addUsers(store, "u1", "u2", "u3", "u4", "u5", "u6")
        try createChannels(store, "general", "random", "quiet", "idle")

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
                .publish(newMessage("g0", channel: "general", from: "u3", ts: from - hour)),
                .publish(newMessage("g1", channel: "general", from: "u1", ts: from + hour)),
                .publish(newMessage("g2", channel: "general", from: "u1", ts: now - 2 * hour)),
                .publish(newMessage("g3", channel: "general", from: "u2", ts: now - hour)),
                .publish(newMessage("r1", channel: "random", from: "u3", ts: now - 3 * hour)),
                .publish(newMessage("q0", channel: "quiet", from: "bot", ts: from - 2 * hour)),
                .publish(newMessage("i0", channel: "idle", from: "u6", ts: from - 3 * hour)),
                .markRead(userID: "u4", channel: "general", seq: 4),
                .markRead(userID: "u5", channel: "quiet", seq: 1),
            ])
        // A mark_read that does not move the position does not make a read.
        let readAt = try harness.integer("SELECT read_at FROM memberships WHERE user_id = 'u4'")
        try expectAllSucceed(store, [.markRead(userID: "u4", channel: "general", seq: 2)])
        #expect(try harness.integer("SELECT read_at FROM memberships WHERE user_id = 'u4'") == readAt)

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
                .announce(newAnnouncement("a2", from: "u2", title: "General only", audience: .channels(["general"]), ts: a2)),
                .acknowledge(announcementID: "a2", userID: "u1", kind: .read, at: a2 + 100),
                .acknowledge(announcementID: "a2", userID: "u3", kind: .ack, at: a2 + 300),
                .acknowledge(announcementID: "a2", userID: "u4", kind: .read, at: a2 + 200),
                .announce(newAnnouncement("a3", from: "u1", title: "Unread", ts: now - 30 * 60_000)),
            ])

        let today = (now / day) * day
        let (d0, d1, d2, d3) = (today, today - day, today - 2 * day, today - 3 * day)
        let elapsed = now - d0
        try expectAllSucceed(
            store,
            [
                .openSession(id: "s0", userID: "u5", at: d0 - 5 * day),
                .closeSession(id: "s0", userID: "u5", at: d0 - 5 * day + hour),
                .openSession(id: "s4", userID: "u3", at: d3 + 20 * hour),
                .openSession(id: "s1", userID: "u1", at: d2 + 10 * hour),
                .closeSession(id: "s1", userID: "u1", at: d2 + 11 * hour),
                .openSession(id: "s2", userID: "u2", at: d2 + 23 * hour),
                .heartbeat(at: d1 + hour),
                .closeSession(id: "s2", userID: "u2", at: d1 + 2 * hour),
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

        let lastDay = try store.engagement(days: 1, now: now)
        #expect(lastDay.daily == [.init(day: isoDate(d0), activeUsers: 4)])
        #expect(lastDay.announcements.map(\.id) == ["a3", "a2"])
        #expect(lastDay.channels.map(\.channel) == ["general", "random", "quiet"])
        #expect(lastDay.channels.first?.messages == 2)
    }

    static func emptyStoreHasZeroDaysAndNoRows(_ harness: any StoreHarness) throws {
        let store = harness.store
        let now: Int64 = 20_000 * day + 5
        let stats = try store.engagement(days: 2, now: now)
        #expect(stats.channels.isEmpty && stats.announcements.isEmpty)
        #expect(stats.daily == [.init(day: "2024-10-03", activeUsers: 0), .init(day: "2024-10-04", activeUsers: 0)])
        #expect(try store.engagement(days: 0, now: now).daily == [])
    }

    /// Messages spread over 18 days at hours that fall across day boundaries, and windows
    /// of every shape (within a day, a day from mid-morning, weeks, one ending before some
    /// people post again, one ending on a message): each window's counts must be what
    /// counting the messages themselves gives (SQLite reads whole days from a rollup).
    static func channelFiguresOfWindowsThatBeginAndEndInsideDays(_ harness: any StoreHarness) throws {
        let store = harness.store
        let base: Int64 = 20_000 * day
        try createChannels(store, "a", "b")
        let sent = (0..<60).map { index -> (id: String, channel: String, from: String, ts: Int64) in
            let ts = base + Int64(index) * 7 * hour + Int64(index * 13 % 60) * 60_000
            return ("m\(index)", index % 3 == 0 ? "b" : "a", "u\(index % 5 + (index > 40 ? 1 : 0))", ts)
        }
        try expectAllSucceed(
            store, sent.map { .publish(newMessage($0.id, channel: $0.channel, from: $0.from, ts: $0.ts)) })

        let windows: [(days: Int, now: Int64)] = [
            (0, base + 50 * hour),
            (1, base + 50 * hour + 30 * 60_000),
            (3, base + 100 * hour),
            (2, base + 5 * day),
            (7, sent[30].ts),
            (10, base + 200 * hour),
            (30, base + 30 * day),
        ]
        for window in windows {
            let from = window.now - Int64(window.days) * day
            var expected: [String: (messages: Int, posters: Set<String>)] = [:]
            for message in sent where (from...window.now).contains(message.ts) {
                expected[message.channel, default: (0, [])].messages += 1
                expected[message.channel, default: (0, [])].posters.insert(message.from)
            }
            let stats = try store.engagement(days: window.days, now: window.now)
            let figures = Dictionary(
                uniqueKeysWithValues: stats.channels.map { ($0.channel, ($0.messages, $0.activePosters)) })
            #expect(figures.count == expected.count, "window \(window)")
            for (channel, counts) in expected {
                #expect(figures[channel]?.0 == counts.messages, "messages of \(channel) in \(window)")
                #expect(figures[channel]?.1 == counts.posters.count, "posters of \(channel) in \(window)")
            }
        }
        // A message stored after the figures were read counts at the next read.
        try expectAllSucceed(store, [.publish(newMessage("late", channel: "b", from: "u9", ts: base + 30 * day - 1))])
        let month = try store.engagement(days: 30, now: base + 30 * day)
        #expect(month.channels.first { $0.channel == "b" }?.messages == sent.filter { $0.channel == "b" }.count + 1)
    }
}
