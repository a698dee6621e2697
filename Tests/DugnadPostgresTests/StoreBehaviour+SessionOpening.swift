import DugnadCore
import DugnadProtocol
import Testing

/// `Store.sessionOpening`, the one read behind a socket's opening, on every store: it must
/// answer exactly what the separate reads (standing, memberships, members, pending
/// announcements) answer.
extension StoreBehaviour {
    static let sessionOpening: [Behaviour] = [
        Behaviour(
            name:
                "a session's opening reads standing, memberships, direct members and pending announcements as the separate reads do",
            check: sessionOpeningMatchesTheSeparateReads),
        Behaviour(name: "a session's opening of an unknown user is empty", check: sessionOpeningOfAnUnknownUserIsEmpty),
    ]

    static func sessionOpeningMatchesTheSeparateReads(_ harness: any StoreHarness) throws {
        let store = harness.store
        try addUsers(store, "author", "me", "ola", "kari")
        try createChannels(store, "general", "random", "quiet")
        let direct = "dm-me-ola"
        let now: Int64 = 100 * 86_400_000
        try expectAllSucceed(
            store,
            [
                .createChannel(name: "hidden", kind: .private, title: "Hidden", createdAt: 1),
                .createDirect(name: direct, title: "", members: ["me", "ola"], at: 2),
                .join(userID: "me", channel: "general", at: 3),
                .join(userID: "me", channel: "random", at: 3),
                .grantMembership(userID: "me", channel: "hidden", at: 4),
                .join(userID: "kari", channel: "quiet", at: 3),
                .publish(newMessage("m1", channel: "general")),
                .announce(newAnnouncement("must-ack", from: "author", requireAck: true, ts: now - 1_000)),
                .announce(newAnnouncement("unread", from: "author", ts: now - 500)),
                .importUsers([UserRecord(id: "me", name: "ME", roles: ["leader"], lastSeen: nil)]),
                .ban(BanRecord(userID: "kari", bannedAt: 7, bannedBy: "author", reason: "spam")),
            ])

        let opening = try store.sessionOpening(userID: "me", now: now)
        #expect(opening.standing == (try store.standing(userID: "me")))
        #expect(opening.standing == UserStanding(directoryRoles: ["leader"], ban: nil))
        #expect(opening.memberships == (try store.memberships(userID: "me")))
        #expect(opening.memberships.map(\.channel.name) == [direct, "general", "hidden", "random"])
        #expect(opening.memberships.first { $0.channel.name == "hidden" }?.kind == .granted)
        #expect(opening.announcements == (try store.pendingAnnouncements(userID: "me", now: now)))
        #expect(opening.announcements.map(\.announcement.id) == ["must-ack", "unread"])
        // Only the direct channel's members are read, all of them, as `members` lists them.
        #expect(Array(opening.directMembers.keys) == [direct])
        let members = try store.members(channel: direct, afterUserID: nil, limit: SessionOpening.directMembersLimit)
        #expect(opening.directMembers[direct] == members.members)
        #expect(opening.directMembers[direct]?.map(\.id) == ["me", "ola"])
        // Another user's opening holds nothing of this one's.
        let kari = try store.sessionOpening(userID: "kari", now: now)
        #expect(kari.memberships.map(\.channel.name) == ["quiet"])
        #expect(kari.standing.ban?.reason == "spam")
        #expect(kari.standing == (try store.standing(userID: "kari")))
        #expect(kari.directMembers.isEmpty)
    }

    static func sessionOpeningOfAnUnknownUserIsEmpty(_ harness: any StoreHarness) throws {
        let opening = try harness.store.sessionOpening(userID: "nobody", now: 1_000)
        #expect(opening == SessionOpening(memberships: [], directMembers: [:], announcements: []))
    }
}
