import DugnadCore
import Foundation
import Testing

/// `dugnad demo`: the built binary seeds an empty data folder with a living intranet, and
/// refuses one that already holds people.
@Suite struct DemoCommandTests {
    @Test func demoSeedsAnEmptyFolderWithALivingIntranetAndRefusesAFullOne() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let seeded = try await command.admin("demo")
        #expect(seeded.exited && seeded.status == 0, "\(seeded.stderr)")
        #expect(seeded.stdout.hasPrefix("seeded Fjordkraft Verksted AS: 41 people, 9 channels"))

        let now = WallClock.nowMillis()
        try command.inspect { store in
            #expect(try store.allUsers().count == 41)
            #expect(try store.allUsers().contains { $0.id == "kari.nordmann" && $0.roles == ["leader"] })
            let channels = try store.allChannels()
            #expect(
                channels.map(\.name).sorted() == [
                    "general", "hms", "it-hjelp", "kantina", "ledergruppen", "nyheter", "produksjon", "salg", "sosialt",
                ])
            #expect(channels.first { $0.name == "ledergruppen" }?.kind == .private)
            // The local admin of `dugnad serve`'s sign-in link is in every channel, with three unread in #general.
            let admin = try store.memberships(userID: "admin")
            #expect(admin.count == 9)
            let general = try #require(admin.first { $0.channel.name == "general" })
            #expect(general.channel.lastSeq > 20)
            #expect(general.channel.lastSeq - general.readSeq == 3)
            // Weeks of conversation, replies among it, everything in the past.
            let history = try store.messages(channel: "general", page: .latest(limit: 500)).messages
            #expect(history.count == Int(general.channel.lastSeq))
            #expect(history.contains { $0.replyTo != nil })
            #expect(history.allSatisfy { $0.ts < now && $0.ts > now - 30 * 86_400_000 })
            // Announcements with receipts, the urgent one still current; goals with figures.
            let posted = try store.announcements(authorID: nil, beforeID: nil, limit: 10).announcements
            #expect(posted.count == 5)
            let urgent = try #require(posted.first { $0.priority == .urgent })
            #expect((urgent.until ?? 0) > now)
            #expect((try store.announcementStats(id: urgent.id)?.acked ?? 0) > 10)
            #expect(try store.goals().count == 5)
            let week = try store.goalFigures(to: now)
            #expect(week.activePeople > 20 && week.activePeople <= 41)
            #expect(week.leaderPosts > 0)
        }

        let again = try await command.admin("demo")
        #expect(again.exited && again.status == 1)
        #expect(again.stderr.contains("already holds an intranet (41 people, 9 channels)"))
        #expect(try command.users().count == 41)
    }
}
