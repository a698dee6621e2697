import ArgumentParser
import DugnadCore
import Foundation

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Seed an empty data folder with a living intranet to try Dugnad on.",
        discussion: """
            Fjordkraft Verksted AS, made up: 40 people with Norwegian names (four leaders), nine \
            channels (one private, one for announcements) with four weeks of conversation, \
            replies and reactions, everyone's sessions, five announcements with their receipts \
            (one urgent and still current), and goals. Then run `dugnad serve` and open the \
            sign-in link it prints: the local admin is a member of every channel.

            Only an empty store is seeded: a folder that holds people or channels is refused, \
            so a real intranet is never mixed with made-up people.
            """)

    @OptionGroup var storage: StoreOptions

    @Option(help: "Seed of the made-up company: the same seed gives the same messages.")
    var seed: UInt64 = 2026

    @Flag(
        help: "Instead of the small company: a year of a large intranet (--people, --messages), to measure the figures on.")
    var year = false

    @Option(help: "With --year: how many people.")
    var people = 5_000

    @Option(help: "With --year: how many messages over the year.")
    var messages = 2_000_000

    func validate() throws {
        guard people >= 40, messages >= 0 else { throw ValidationError("--people must be at least 40, --messages 0 or more.") }
    }

    func run() async throws {
        let store = try storage.openStore()
        defer { store.close() }
        let people = try store.allUsers().count
        let channels = try store.allChannels().count
        guard people == 0, channels == 0 else {
            throw CommandFailure(
                "\(storage.databaseURL == nil ? storage.dataDir : "the database") already holds an intranet "
                    + "(\(people) people, \(channels) channels); demo seeds only an empty one")
        }
        if year {
            var seeder = YearSeeder(
                store: store, now: WallClock.nowMillis(), seed: seed, people: self.people, messages: messages)
            let began = ContinuousClock.now
            let summary = try seeder.seed { line in FileHandle.standardError.write(Data("\(line)\n".utf8)) }
            // The search index and the figures' rollups, so that serve starts up to date.
            try store.catchUpDeferredWork()
            print(
                """
                seeded a year: \(summary.people) people, \(summary.channels) channels, \(summary.messages) messages, \
                \(summary.sessions) sessions, \(summary.announcements) announcements, \(summary.receipts) receipts \
                in \(ContinuousClock.now - began)
                """)
            return
        }
        var seeder = DemoSeeder(store: store, now: WallClock.nowMillis(), seed: seed)
        let summary = try seeder.seed()
        try store.catchUpDeferredWork()
        print(
            """
            seeded Fjordkraft Verksted AS: \(summary.people) people, \(summary.channels) channels, \
            \(summary.messages) messages, \(summary.reactions) reactions, \(summary.sessions) sessions, \
            \(summary.announcements) announcements, \(DemoCompany.goals.count) goals
            next: dugnad serve\(storage.databaseURL == nil && storage.dataDir != "dugnad-data" ? " --data-dir \(storage.dataDir)" : ""), \
            then open the sign-in link it prints
            """)
    }
}
