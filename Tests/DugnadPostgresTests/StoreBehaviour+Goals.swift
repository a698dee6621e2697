import DugnadCore
import DugnadProtocol
import Testing

/// Goals and the counts behind their figures, on a scenario whose answers are known.
extension StoreBehaviour {
    static let goals: [Behaviour] = [
        Behaviour(name: "goal figures of a known week", check: goalFiguresOfAKnownWeek),
        Behaviour(name: "setting goals replaces the earlier ones", check: settingGoalsReplacesTheEarlierOnes),
    ]

    private static let goalDay: Int64 = 86_400_000
    private static let goalHour: Int64 = 3_600_000

    static func goalFiguresOfAKnownWeek(_ harness: any StoreHarness) throws {
        let store = harness.store
        let now: Int64 = 1_780_000_000_000
        let (day, hour) = (goalDay, goalHour)
        try expectAllSucceed(
            store,
            [
                .upsertUser(id: "l1", name: "Leader", roles: ["leader"], seenAt: 1),
                .upsertUser(id: "u1", name: "U1", roles: [], seenAt: 1),
                .upsertUser(id: "u2", name: "U2", roles: [], seenAt: 1),
                .upsertUser(id: "u3", name: "U3", roles: [], seenAt: 1),
                .createChannel(name: "general", kind: .public, title: "General", createdAt: 1),
                .createChannel(name: "random", kind: .public, title: "Random", createdAt: 1),
                .createChannel(name: "news", kind: .announce, title: "News", createdAt: 1),
                .createChannel(name: "secret", kind: .private, title: "Secret", createdAt: 1),
                // A channel made after the week counts nowhere.
                .createChannel(name: "later", kind: .public, title: "Later", createdAt: now + day),
                .publish(newMessage("m1", channel: "general", from: "l1", ts: now - day)),
                .publish(newMessage("m2", channel: "random", from: "u1", ts: now - 30 * day)),
                // A leader's post in a private channel counts neither as a post nor as activity.
                .publish(newMessage("m3", channel: "secret", from: "l1", ts: now - day)),
                .publish(newMessage("m4", channel: "later", from: "u1", ts: now - hour)),
                // Active in the week: u1 (a closed session inside it) and l1 (still open);
                // u2's session ended before the week began; u3 never connected.
                .openSession(id: "s1", userID: "u1", at: now - 2 * day),
                .closeSession(id: "s1", userID: "u1", at: now - 2 * day + hour),
                .openSession(id: "s2", userID: "u2", at: now - 10 * day),
                .closeSession(id: "s2", userID: "u2", at: now - 9 * day),
                .openSession(id: "s3", userID: "l1", at: now - hour),
            ])
        let a1 = now - 3 * day
        try expectAllSucceed(
            store,
            [
                // To everyone but its author (u1, u2, u3); it requires an ack.
                .announce(newAnnouncement("a1", from: "l1", requireAck: true, ts: a1)),
                .acknowledge(announcementID: "a1", userID: "u1", kind: .ack, at: a1 + hour),
                .acknowledge(announcementID: "a1", userID: "u2", kind: .read, at: a1 + 2 * hour),
                .acknowledge(announcementID: "a1", userID: "u2", kind: .ack, at: a1 + 30 * hour),
                // Posted less than a day before the week's end: not yet in the reach figures.
                .announce(newAnnouncement("a2", from: "u1", ts: now - 12 * hour)),
                .acknowledge(announcementID: "a2", userID: "u3", kind: .read, at: now - 11 * hour),
                // A user created after the week's end is not among its people.
                .upsertUser(id: "late", name: "Late", roles: [], seenAt: now + day),
            ])

        let figures = try store.goalFigures(to: now)
        #expect(
            figures
                == GoalFigures(
                    people: 4, activePeople: 2, audience: 3, readWithin24h: 2, ackAudience: 3, ackedWithin24h: 1,
                    leaderPosts: 2, openChannels: 3, activeChannels: 1))
        #expect(figures.value(of: .weeklyActivePct) == 50)
        #expect(figures.value(of: .announcementReadWithin24hPct) == 66.7)
        #expect(figures.value(of: .announcementAckWithin24hPct) == 33.3)
        #expect(figures.value(of: .leaderPostsPerWeek) == 2)
        #expect(figures.value(of: .channelsWithActivityPct) == 33.3)

        // Four weeks earlier: the users and channels, and only m2 (posted 30 days before
        // `now`, inside that week) in random.
        let before = try store.goalFigures(to: now - 28 * day)
        #expect(before == GoalFigures(people: 4, openChannels: 3, activeChannels: 1))
        #expect(before.value(of: .announcementReadWithin24hPct) == nil)

        // Weeks read together (one pass over the sessions for all of them) give what each
        // gives alone; the week ending 9 days ago holds u2's session only.
        let weekEnds = [now - 28 * day, now - 9 * day, now]
        let together = try store.goalFigures(weekEnds: weekEnds)
        #expect(together == [before, try store.goalFigures(to: now - 9 * day), figures])
        #expect(together[1].activePeople == 1)
    }

    static func settingGoalsReplacesTheEarlierOnes(_ harness: any StoreHarness) throws {
        let store = harness.store
        #expect(try store.goals().isEmpty)
        try expectAllSucceed(
            store,
            [
                .setGoals([
                    GoalRecord(metric: .leaderPostsPerWeek, target: 3, setBy: "admin", setAt: 10),
                    GoalRecord(metric: .weeklyActivePct, target: 62.5, setBy: "admin", setAt: 10),
                ])
            ])
        #expect(
            try store.goals() == [
                GoalRecord(metric: .weeklyActivePct, target: 62.5, setBy: "admin", setAt: 10),
                GoalRecord(metric: .leaderPostsPerWeek, target: 3, setBy: "admin", setAt: 10),
            ])
        try expectAllSucceed(
            store, [.setGoals([GoalRecord(metric: .channelsWithActivityPct, target: 80, setBy: "ada", setAt: 20)])])
        #expect(try store.goals() == [GoalRecord(metric: .channelsWithActivityPct, target: 80, setBy: "ada", setAt: 20)])
        try expectAllSucceed(store, [.setGoals([])])
        #expect(try store.goals().isEmpty)
    }
}

/// Who has not read or acknowledged an announcement, paged by user id.
extension StoreBehaviour {
    static let receipts: [Behaviour] = [
        Behaviour(name: "receipts list who has not read or acked, paged", check: receiptsListWhoHasNotReadOrAcked)
    ]

    static func receiptsListWhoHasNotReadOrAcked(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "boss", "u1", "u2", "u3", "u4")
        try expectAllSucceed(
            store,
            [
                .announce(newAnnouncement("a1", from: "boss", requireAck: true, ts: 1_000)),
                .acknowledge(announcementID: "a1", userID: "u1", kind: .ack, at: 2_000),
                .acknowledge(announcementID: "a1", userID: "u3", kind: .read, at: 2_000),
            ])
        func ids(_ page: (recipients: [AnnouncementRecipient], hasMore: Bool)) -> [String] { page.recipients.map(\.id) }

        let unread = try store.announcementRecipients(id: "a1", state: .unread, afterUserID: nil, limit: 10)
        #expect(ids(unread) == ["u2", "u4"])
        #expect(unread.recipients.first?.name == "U2")
        #expect(!unread.hasMore)
        let firstPage = try store.announcementRecipients(id: "a1", state: .unacked, afterUserID: nil, limit: 2)
        #expect(ids(firstPage) == ["u2", "u3"])
        #expect(firstPage.hasMore)
        let lastPage = try store.announcementRecipients(id: "a1", state: .unacked, afterUserID: "u3", limit: 2)
        #expect(ids(lastPage) == ["u4"])
        #expect(!lastPage.hasMore)
        #expect(try store.announcementRecipients(id: "nope", state: .unread, afterUserID: nil, limit: 2).recipients.isEmpty)
    }
}

/// Announcements current `until` a time reach people who join their audience later.
extension StoreBehaviour {
    static let lateRecipients: [Behaviour] = [
        Behaviour(name: "a current announcement reaches new users and new members", check: currentAnnouncementReachesLateOnes)
    ]

    /// The ids of the announcements `reachLateRecipient` added the user to; nil for another outcome.
    private static func reached(_ store: any Store, _ userID: String, channel: String? = nil, at: Int64) throws -> [String]? {
        guard
            case .success(.reached(let records))? = try store.write([
                .reachLateRecipient(userID: userID, channel: channel, at: at)
            ]).first
        else { return nil }
        return records.map(\.id)
    }

    static func currentAnnouncementReachesLateOnes(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "boss", "u1")
        try createChannels(store, "news", "other")
        var everyone = newAnnouncement("a1", from: "boss", requireAck: true, ts: 1_000)
        everyone.until = 10_000
        var toNews = newAnnouncement("a2", from: "boss", audience: .channels(["news"]), ts: 1_000)
        toNews.until = 10_000
        var expired = newAnnouncement("a3", from: "boss", ts: 1_000)
        expired.until = 2_000
        try expectAllSucceed(store, [.announce(everyone), .announce(toNews), .announce(expired)])
        #expect(try store.announcement(id: "a1")?.until == 10_000)
        #expect(try store.announcement(id: "a1")?.audienceCount == 1)

        // A new hire: in the directory now, reached by what is current and goes to everyone.
        try addUsers(store, "nyansatt")
        #expect(try reached(store, "nyansatt", at: 5_000) == ["a1"])
        #expect(try store.announcement(id: "a1")?.audienceCount == 2)
        #expect(try store.isInAudience(announcementID: "a1", userID: "nyansatt"))
        #expect(try !store.isInAudience(announcementID: "a3", userID: "nyansatt"))
        // Again: nothing more (the audience holds the user already).
        #expect(try reached(store, "nyansatt", at: 5_000) == [])
        #expect(try store.announcement(id: "a1")?.audienceCount == 2)
        // The author is never its own audience; after `until`, nobody is added.
        #expect(try reached(store, "boss", at: 5_000) == [])
        try addUsers(store, "sent")
        #expect(try reached(store, "sent", at: 10_000) == [])

        // A new member of news gets a2; of another channel, nothing.
        try expectAllSucceed(store, [.join(userID: "u1", channel: "news", at: 5_000)])
        #expect(try reached(store, "u1", channel: "news", at: 5_000) == ["a2"])
        #expect(try reached(store, "u1", channel: "other", at: 5_000) == [])
        #expect(try store.pendingAnnouncements(userID: "nyansatt", now: 5_000).map(\.announcement.id) == ["a1"])
    }
}
