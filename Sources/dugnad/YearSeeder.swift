import DugnadCore
import DugnadProtocol
import Foundation

/// A year of a large intranet's life, for measuring what a year of history costs to read
/// (`dugnad demo --year`; the dashboard's figures over 365 days, docs/benchmarks.md):
/// `people` people (one in twenty a leader), 200 channels whose traffic falls off with
/// their rank (Zipf-like: a few busy, most quiet), `messages` messages spread over the
/// year's working hours (weekends a tenth as busy), a session on most working days of each
/// person (as often as their engagement says), three announcements a week (two of three to
/// everyone) with read and ack receipts, and every member's read position at the end.
///
/// Written through `Store.write` in the hub's batch size, as `DemoSeeder` does, so the
/// rows, triggers and rollups are exactly those the hub writes. Deterministic for a seed.
struct YearSeeder {
    struct Summary {
        var people = 0
        var channels = 0
        var messages = 0
        var sessions = 0
        var announcements = 0
        var receipts = 0
    }

    typealias Person = DemoCompany.Person

    struct Channel {
        var name: String
        var kind: ChannelKind
        var members: [Int] = []
    }

    static let days = 365
    static let channelCount = 200
    static let joinsPerPerson = 8
    static let batch = 512
    static let dayMillis = DemoSeeder.dayMillis
    static let hourMillis = DemoSeeder.hourMillis

    let store: any Store
    let now: Int64
    let peopleCount: Int
    let messageCount: Int
    var random: DemoSeeder.Random
    var summary = Summary()

    init(store: any Store, now: Int64, seed: UInt64, people: Int, messages: Int) {
        self.store = store
        self.now = now
        self.peopleCount = people
        self.messageCount = messages
        self.random = DemoSeeder.Random(state: seed)
    }

    /// The start of the year: 365 days back, less an hour, so that everything written lies
    /// inside the figures' 365-day window and nothing after `now` (the last day's working
    /// hours end 6 hours before it).
    var start: Int64 { now - Int64(Self.days) * Self.dayMillis + Self.hourMillis }

    mutating func seed(progress: (String) -> Void) throws -> Summary {
        let people = makePeople()
        try write(people.map { .upsertUser(id: $0.id, name: $0.name, roles: $0.roles, seenAt: start) })
        summary.people = people.count
        var channels = makeChannels(peopleCount: people.count)
        try writeChannels(&channels, people: people)
        progress("people and channels written")
        let dayWeights = (0..<Self.days).map { day in DemoSeeder.isWorkday(start + Int64(day) * Self.dayMillis) ? 1.0 : 0.1 }
        let total = dayWeights.reduce(0, +)
        var written = 0
        for day in 0..<Self.days {
            let dayStart = start + Int64(day) * Self.dayMillis
            let share = day == Self.days - 1 ? messageCount - written : Int(Double(messageCount) * dayWeights[day] / total)
            try writeMessages(share, on: dayStart, channels: channels, people: people)
            written += share
            try writeSessions(on: dayStart, people: people)
            if day % 7 == 3 { try writeAnnouncements(on: dayStart, people: people, channels: channels) }
            if day % 30 == 29 { progress("day \(day + 1) of \(Self.days): \(written) messages, \(summary.sessions) sessions") }
        }
        summary.messages = written
        try markEverythingRead(channels)
        return summary
    }

    private mutating func makePeople() -> [Person] {
        let given = ["Kari", "Ola", "Ingrid", "Lars", "Siri", "Jonas", "Marit", "Erik", "Nora", "Håkon", "Åse", "Øystein"]
        let family = ["Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Berg", "Haugen", "Bakken", "Dahl", "Lie"]
        return (0..<peopleCount).map { index in
            Person(
                id: String(format: "p%05d", index), name: "\(random.pick(given)) \(random.pick(family))",
                roles: index == 0 ? ["admin"] : index % 20 == 1 ? ["leader"] : ["member"],
                engagement: 0.3 + 0.65 * random.unit())
        }
    }

    /// `general` (everyone, public) and `nyheter` (everyone, announce), then teams: one in
    /// ten private, one in fifty announce, the rest public.
    private func makeChannels(peopleCount: Int) -> [Channel] {
        var channels = [Channel(name: "general", kind: .public), Channel(name: "nyheter", kind: .announce)]
        for index in 2..<Self.channelCount {
            let kind: ChannelKind = index % 50 == 0 ? .announce : index % 10 == 0 ? .private : .public
            channels.append(Channel(name: String(format: "team-%03d", index), kind: kind))
        }
        return channels
    }

    /// Everyone is in the first two; each person joins `joinsPerPerson` teams, the busier
    /// (lower-ranked) ones more often. Private ones by an admin's grant.
    private mutating func writeChannels(_ channels: inout [Channel], people: [Person]) throws {
        try write(channels.map { .createChannel(name: $0.name, kind: $0.kind, title: $0.name, createdAt: start) })
        summary.channels = channels.count
        var ops: [WriteOp] = []
        for (index, person) in people.enumerated() {
            var teams: Set<Int> = [0, 1]
            while teams.count < Self.joinsPerPerson + 2 { teams.insert(rankedTeam()) }
            for team in teams.sorted() {
                channels[team].members.append(index)
                ops.append(
                    channels[team].kind == .private
                        ? .grantMembership(userID: person.id, channel: channels[team].name, at: start)
                        : .join(userID: person.id, channel: channels[team].name, at: start))
            }
        }
        try write(ops)
    }

    /// A team index, 2 ..< channelCount, rank r chosen with weight about 1/r.
    private mutating func rankedTeam() -> Int {
        let teams = Double(Self.channelCount - 2)
        return 2 + min(Int(teams) - 1, Int(exp(random.unit() * log(teams + 1)) - 1))
    }

    /// A channel for the next message: general a tenth of the traffic, teams by rank, and
    /// announce channels only from leaders (skipped when the author is not one).
    private mutating func writeMessages(_ count: Int, on dayStart: Int64, channels: [Channel], people: [Person]) throws {
        var messages: [NewMessage] = []
        messages.reserveCapacity(count)
        // Every channel picked has members (general has everyone), so this ends.
        while messages.count < count {
            let channel = random.chance(0.1) ? channels[0] : channels[rankedTeam()]
            guard !channel.members.isEmpty else { continue }
            let author = people[random.pick(channel.members)]
            if channel.kind == .announce, !author.roles.contains("leader") { continue }
            let ts = dayStart + random.millis(7 * Self.hourMillis...17 * Self.hourMillis)
            messages.append(
                NewMessage(
                    id: Identifiers.messageID(now: ts), channel: channel.name, fromID: author.id, fromName: author.name,
                    body: random.pick(Self.lines), metaJSON: nil, replyTo: nil, clientID: nil, ts: ts))
        }
        messages.sort { $0.ts < $1.ts }
        try write(messages.map { .publish($0) })
    }

    /// A working-day session for each person as likely as their engagement; at weekends a
    /// twentieth of that.
    private mutating func writeSessions(on dayStart: Int64, people: [Person]) throws {
        let workday = DemoSeeder.isWorkday(dayStart)
        var ops: [WriteOp] = []
        for person in people where random.chance(workday ? person.engagement : person.engagement / 20) {
            let id = Identifiers.sessionID()
            let opened = dayStart + random.millis(7 * Self.hourMillis...10 * Self.hourMillis)
            let closed = dayStart + random.millis(14 * Self.hourMillis...17 * Self.hourMillis)
            ops.append(.openSession(id: id, userID: person.id, at: opened))
            ops.append(.closeSession(id: id, userID: person.id, at: closed))
        }
        try write(ops)
        summary.sessions += ops.count / 2
    }

    /// Three a week from leaders (two to everyone, one to a team); the engaged read within
    /// hours, others within two days, some never; nearly all asked to acknowledge do.
    private mutating func writeAnnouncements(on dayStart: Int64, people: [Person], channels: [Channel]) throws {
        let leaders = people.filter { $0.roles.contains("leader") }
        let engagement = Dictionary(uniqueKeysWithValues: people.map { ($0.id, $0.engagement) })
        for (index, hour) in [9, 11, 14].enumerated() {
            let ts = dayStart + Int64(hour) * Self.hourMillis
            let author = random.pick(leaders)
            let audience: Audience = index == 2 ? .channels([channels[rankedTeam()].name]) : .all
            let requireAck = random.chance(0.3)
            let new = NewAnnouncement(
                id: Identifiers.announcementID(now: ts), fromID: author.id, fromName: author.name,
                title: random.pick(Self.titles), body: random.pick(Self.lines),
                priority: requireAck ? .urgent : .normal, requireAck: requireAck, audience: audience, clientID: nil, ts: ts)
            guard case .success(.announcement(_, let recipients, _))? = try store.write([.announce(new)]).first else {
                throw CommandFailure("could not store the announcement '\(new.title)'")
            }
            var readers: [String] = []
            var receipts: [WriteOp] = []
            for user in recipients {
                let keen = engagement[user] ?? 0.5
                guard random.chance(keen + 0.05) else { continue }
                let readAt = ts + Int64(Double(random.millis(60_000...48 * Self.hourMillis)) * (1.1 - keen))
                guard readAt < now else { continue }
                readers.append(user)
                let acks = requireAck && random.chance(0.9)
                receipts.append(.acknowledge(announcementID: new.id, userID: user, kind: acks ? .ack : .read, at: readAt))
            }
            try write([.markDelivered(announcementID: new.id, userIDs: readers, at: ts + 60_000)] + receipts)
            summary.announcements += 1
            summary.receipts += receipts.count
        }
    }

    private func markEverythingRead(_ channels: [Channel]) throws {
        var ops: [WriteOp] = []
        for channel in channels {
            guard let record = try store.channel(named: channel.name) else { continue }
            for member in channel.members {
                ops.append(.markRead(userID: String(format: "p%05d", member), channel: channel.name, seq: record.lastSeq))
            }
        }
        try write(ops)
    }

    /// Writes in batches of the size the hub's writer commits, failing on the first op that fails.
    private func write(_ ops: [WriteOp]) throws {
        for start in stride(from: 0, to: ops.count, by: Self.batch) {
            let batch = Array(ops[start..<min(start + Self.batch, ops.count)])
            for (index, result) in try store.write(batch).enumerated() {
                if case .failure(let error) = result {
                    throw CommandFailure("could not \(batch[index].action): \(error)")
                }
            }
        }
    }

    static let lines = [
        "Takk for i dag!", "Kan noen se på saken før lunsj?", "Møtet flyttes til kl. 14.", "Ny versjon er ute.",
        "Husk timelistene innen fredag.", "Kaffen er klar på kjøkkenet.", "Jeg tar den.", "Bra jobbet, alle sammen!",
        "Hvem har nøkkelen til lageret?", "Referatet ligger i mappen.",
    ]
    static let titles = ["Strømstans fredag 07–09", "Ny HMS-rutine", "Sommerfest", "Brannøvelse", "Kvartalsrapport"]
}
