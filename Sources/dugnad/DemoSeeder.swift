import DugnadCore
import DugnadProtocol

/// Turns `DemoCompany` into four weeks of an intranet's life, as store writes: people,
/// channels and memberships, working days of conversation with replies and reactions,
/// sessions (so the engagement figures and goals have something to show), announcements
/// with their receipts, and goals. Deterministic for a seed: the same seed, the same company.
struct DemoSeeder {
    /// SplitMix64: small, fast, and the same numbers on every machine.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// Uniform in [0, 1).
        mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
        mutating func chance(_ p: Double) -> Bool { unit() < p }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
        mutating func millis(_ range: ClosedRange<Int64>) -> Int64 {
            range.lowerBound + Int64(next() % UInt64(range.upperBound - range.lowerBound + 1))
        }
    }

    struct Summary {
        var people = 0
        var channels = 0
        var messages = 0
        var reactions = 0
        var sessions = 0
        var announcements = 0
    }

    static let days = 28
    static let dayMillis: Int64 = 86_400_000
    static let hourMillis: Int64 = 3_600_000

    let store: any Store
    let now: Int64
    var random: Random

    init(store: any Store, now: Int64, seed: UInt64) {
        self.store = store
        self.now = now
        self.random = Random(state: seed)
    }

    mutating func seed() throws -> Summary {
        var summary = Summary()
        let start = (now / Self.dayMillis - Int64(Self.days)) * Self.dayMillis
        let people = DemoCompany.everyone
        try write(people.map { .upsertUser(id: $0.id, name: $0.name, roles: $0.roles, seenAt: start) })
        summary.people = people.count

        var members: [String: [DemoCompany.Person]] = [:]
        var setup: [WriteOp] = []
        for channel in DemoCompany.channels {
            setup.append(.createChannel(name: channel.name, kind: channel.kind, title: channel.title, createdAt: start))
            let chosen: [DemoCompany.Person]
            switch channel.members {
            case .everyone: chosen = people
            case .leaders: chosen = [DemoCompany.admin] + DemoCompany.leaders
            case .some(let count, let offset):
                let staff = DemoCompany.staff
                chosen =
                    [DemoCompany.admin] + DemoCompany.leaders.prefix(2)
                    + (0..<count).map { staff[(offset + $0) % staff.count] }
            }
            members[channel.name] = chosen
            for person in chosen {
                setup.append(
                    channel.kind == .private
                        ? .grantMembership(userID: person.id, channel: channel.name, at: start)
                        : .join(userID: person.id, channel: channel.name, at: start))
            }
        }
        try write(setup)
        summary.channels = DemoCompany.channels.count

        let workdays = (0..<Self.days).map { start + Int64($0) * Self.dayMillis }.filter(Self.isWorkday)
        summary.sessions = try writeSessions(people, on: workdays)
        (summary.messages, summary.reactions) = try writeConversation(members, on: workdays)
        summary.announcements = try writeAnnouncements(people)
        try write([
            .setGoals(
                DemoCompany.goals.map { GoalRecord(metric: $0.0, target: $0.1, setBy: AuditEntry.cliActor, setAt: now) })
        ])
        try markMostRead(members)
        return summary
    }

    /// 1970-01-01 was a Thursday: day 0 → Thursday, so days 2 and 3 (mod 7) are the weekend.
    static func isWorkday(_ dayStart: Int64) -> Bool {
        let weekday = (dayStart / dayMillis) % 7
        return weekday != 2 && weekday != 3
    }

    /// A session on each working day the person opened the intranet, 07:30–09:30 to 15:00–16:30.
    private mutating func writeSessions(_ people: [DemoCompany.Person], on workdays: [Int64]) throws -> Int {
        var ops: [WriteOp] = []
        for day in workdays {
            for person in people where random.chance(person.engagement) {
                let id = Identifiers.sessionID()
                let opened = day + random.millis(7 * Self.hourMillis + 1_800_000...9 * Self.hourMillis + 1_800_000)
                let closed = day + random.millis(15 * Self.hourMillis...16 * Self.hourMillis + 1_800_000)
                ops.append(.openSession(id: id, userID: person.id, at: opened))
                ops.append(.closeSession(id: id, userID: person.id, at: closed))
            }
        }
        try write(ops)
        return ops.count / 2
    }

    /// Messages in working hours, in time order (so seqs follow time); a fifth of them
    /// replies to the one before in the channel, a quarter of them get reactions.
    private mutating func writeConversation(_ members: [String: [DemoCompany.Person]], on workdays: [Int64]) throws
        -> (messages: Int, reactions: Int)
    {
        var messages: [(NewMessage, reactors: [String])] = []
        for channel in DemoCompany.channels {
            guard let people = members[channel.name], !people.isEmpty else { continue }
            var previous: String?
            for day in workdays {
                let count = Int((channel.dailyMessages * 2 * random.unit()).rounded())
                let times = (0..<count).map { _ in day + random.millis(8 * Self.hourMillis...16 * Self.hourMillis) }.sorted()
                for ts in times {
                    // Announce channels: leaders post there.
                    let author =
                        channel.kind == .announce
                        ? random.pick(DemoCompany.leaders) : random.pick(people.filter { $0.id != "admin" })
                    let isReply = previous != nil && random.chance(0.2)
                    let message = NewMessage(
                        id: Identifiers.messageID(now: ts), channel: channel.name, fromID: author.id, fromName: author.name,
                        body: isReply ? random.pick(DemoCompany.replies) : random.pick(channel.lines), metaJSON: nil,
                        replyTo: isReply ? previous : nil, clientID: nil, ts: ts)
                    previous = message.id
                    let reactors =
                        random.chance(0.25)
                        ? (0..<Int(1 + random.next() % 3)).map { _ in random.pick(people).id } : []
                    messages.append((message, Array(Set(reactors).subtracting([author.id])).sorted()))
                }
            }
        }
        messages.sort { $0.0.ts < $1.0.ts }
        try write(messages.map { .publish($0.0) })
        var reactions: [WriteOp] = []
        for (message, reactors) in messages {
            for user in reactors {
                reactions.append(
                    .react(
                        messageID: message.id, userID: user, emoji: random.pick(DemoCompany.reactions), remove: false,
                        at: message.ts + random.millis(60_000...3 * Self.hourMillis)))
            }
        }
        try write(reactions)
        return (messages.count, reactions.count)
    }

    /// Each announcement, then its receipts: most people read within hours (the keen ones
    /// sooner), most of those asked to acknowledge do; nothing after `now`.
    private mutating func writeAnnouncements(_ people: [DemoCompany.Person]) throws -> Int {
        let engagement = Dictionary(uniqueKeysWithValues: people.map { ($0.id, $0.engagement) })
        for item in DemoCompany.announcements {
            let ts = now - Int64(item.daysAgo * Double(Self.dayMillis))
            guard let author = people.first(where: { $0.id == item.from }) else { continue }
            let new = NewAnnouncement(
                id: Identifiers.announcementID(now: ts), fromID: author.id, fromName: author.name, title: item.title,
                body: item.body, priority: item.priority, requireAck: item.requireAck, audience: item.audience,
                clientID: nil, ts: ts, until: item.currentForDays.map { now + Int64($0 * Double(Self.dayMillis)) })
            guard case .success(.announcement(_, let audience, _))? = try store.write([.announce(new)]).first else {
                throw CommandFailure("could not store the announcement '\(item.title)'")
            }
            var receipts: [WriteOp] = []
            for user in audience where user != "admin" {
                let keen = engagement[user] ?? 0.5
                guard random.chance(min(0.98, keen + 0.05)) else { continue }
                // Keen readers within the hour, others within a day or two.
                let delay = Int64(Double(random.millis(5 * 60_000...30 * Self.hourMillis)) * (1.2 - keen))
                let readAt = ts + delay
                guard readAt < now else { continue }
                receipts.append(.markDelivered(announcementID: new.id, userIDs: [user], at: readAt))
                let acks = item.requireAck && random.chance(0.85)
                receipts.append(.acknowledge(announcementID: new.id, userID: user, kind: acks ? .ack : .read, at: readAt))
            }
            try write(receipts)
        }
        return DemoCompany.announcements.count
    }

    /// Everyone has read nearly everything; the admin has a few unread in #general, so the
    /// first look shows what unread looks like.
    private func markMostRead(_ members: [String: [DemoCompany.Person]]) throws {
        var ops: [WriteOp] = []
        for (name, people) in members {
            guard let channel = try store.channel(named: name) else { continue }
            for person in people {
                let behind: Int64 = person.id == "admin" ? (name == "general" ? 3 : 0) : Int64(person.id.count % 3)
                ops.append(.markRead(userID: person.id, channel: name, seq: max(0, channel.lastSeq - behind)))
            }
        }
        try write(ops)
    }

    /// Writes in batches of the size the hub's writer commits, failing on the first op that fails.
    private func write(_ ops: [WriteOp]) throws {
        for start in stride(from: 0, to: ops.count, by: 512) {
            let batch = Array(ops[start..<min(start + 512, ops.count)])
            for (index, result) in try store.write(batch).enumerated() {
                if case .failure(let error) = result {
                    throw CommandFailure("could not \(batch[index].action): \(error)")
                }
            }
        }
    }
}
