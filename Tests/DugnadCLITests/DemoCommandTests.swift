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

    @Test func demoYearSeedsAYearOfTheSizeAskedFor() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let seeded = try await command.admin("demo", "--year", "--people", "60", "--messages", "3000")
        #expect(seeded.exited && seeded.status == 0, "\(seeded.stderr)")
        #expect(seeded.stdout.hasPrefix("seeded a year: 60 people, 200 channels, 3000 messages"))
        let now = WallClock.nowMillis()
        try command.inspect { store in
            #expect(try store.allUsers().count == 60)
            let channels = try store.allChannels()
            #expect(channels.reduce(0) { $0 + Int($1.lastSeq) } == 3000, "every message stored, seqs gapless")
            // A year of it: the oldest messages almost a year back, none in the future.
            let stats = try store.engagement(days: 365, now: now)
            #expect(stats.channels.reduce(0) { $0 + $1.messages } == 3000)
            #expect(stats.announcements.count >= 150, "three a week")
            #expect(stats.daily.filter { $0.activeUsers > 0 }.count > 250, "sessions on most days")
            #expect(try store.goalFigures(to: now).activePeople > 10)
        }
    }
}
