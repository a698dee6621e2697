import DugnadCore
import DugnadProtocol
import Testing

/// The channel directory on every store: pages with member counts, the newest message's
/// time and the caller's membership; the folded query; descriptions; who made a channel.
extension StoreBehaviour {
    static let directory: [Behaviour] = [
        Behaviour(
            name: "the directory pages every channel with member counts, last activity and the caller's membership",
            check: directoryPagesChannelsWithFigures),
        Behaviour(
            name: "the directory's query finds folded fragments of names and titles, Norwegian letters too",
            check: directoryQueryFindsFoldedFragments),
        Behaviour(
            name: "a description is set, replaced and removed, and a channel remembers who made it",
            check: descriptionsAreSetReplacedAndRemoved),
    ]

    private static func directoryChannels(_ store: any Store) throws {
        try expectAllSucceed(
            store,
            [
                .createChannel(name: "general", kind: .public, title: "General", createdAt: 1),
                .createChannel(name: "board", kind: .private, title: "Board", createdAt: 1),
                .createChannel(name: "aarsmote", kind: .public, title: "Årsmøtet 2027", createdAt: 1, createdBy: "ola"),
                .createChannel(name: "news", kind: .announce, title: "News", createdAt: 1),
                .join(userID: "ola", channel: "general", at: 2),
                .join(userID: "kari", channel: "general", at: 2),
                .grantMembership(userID: "kari", channel: "board", at: 2),
                .publish(newMessage("m1", channel: "general", ts: 1_000)),
                .publish(newMessage("m2", channel: "general", ts: 2_000)),
            ])
    }

    static func directoryPagesChannelsWithFigures(_ harness: any StoreHarness) throws {
        let store = harness.store
        try directoryChannels(store)
        let all = try store.channelDirectory(DirectoryPageRequest(userID: "kari", folded: nil, afterName: nil, limit: 10))
        #expect(all.entries.map(\.channel.name) == ["aarsmote", "board", "general", "news"])
        #expect(!all.hasMore)
        #expect(all.entries.map(\.memberCount) == [0, 1, 2, 0])
        #expect(all.entries.map(\.lastActivity) == [nil, nil, 2_000, nil])
        #expect(all.entries.map(\.membership) == [nil, .granted, .joined, nil])
        #expect(all.entries.first?.channel.createdBy == "ola")

        let first = try store.channelDirectory(DirectoryPageRequest(userID: "ola", folded: nil, afterName: nil, limit: 2))
        #expect(first.entries.map(\.channel.name) == ["aarsmote", "board"])
        #expect(first.hasMore)
        #expect(first.entries.map(\.membership) == [nil, nil], "ola is not in board")
        let second = try store.channelDirectory(
            DirectoryPageRequest(userID: "ola", folded: nil, afterName: "board", limit: 2))
        #expect(second.entries.map(\.channel.name) == ["general", "news"])
        #expect(!second.hasMore)
        #expect(second.entries.first?.membership == .joined)
    }

    static func directoryQueryFindsFoldedFragments(_ harness: any StoreHarness) throws {
        let store = harness.store
        try directoryChannels(store)
        func names(_ query: String) throws -> [String] {
            try store.channelDirectory(
                DirectoryPageRequest(userID: "ola", folded: ChannelSearchKey.fold(query), afterName: nil, limit: 10)
            ).entries.map(\.channel.name)
        }
        #expect(try names("ÅRSMØ") == ["aarsmote"], "the title, folded beyond ASCII")
        #expect(try names("årsmøtet 2027") == ["aarsmote"])
        #expect(try names("aarsm") == ["aarsmote"], "the name")
        #expect(try names("E") == ["aarsmote", "general", "news"])
        #expect(try names("BOA") == ["board"], "the store lists private channels; the hub decides who sees them")
        #expect(try names("zzz").isEmpty)
        #expect(try harness.texts("SELECT search_key FROM channels WHERE name = 'aarsmote'") == ["aarsmote\nårsmøtet 2027"])
    }

    static func descriptionsAreSetReplacedAndRemoved(_ harness: any StoreHarness) throws {
        let store = harness.store
        try directoryChannels(store)
        #expect(try store.channel(named: "general")?.description == nil)
        let set = try store.write([.describeChannel(name: "general", description: "Alt for alle")])
        guard case .success(.channel(let described, true))? = set.first else {
            Issue.record("describe failed: \(set)")
            return
        }
        #expect(described.description == "Alt for alle")
        #expect(try store.channel(named: "general")?.description == "Alt for alle")
        try expectAllSucceed(store, [.describeChannel(name: "general", description: "Nytt")])
        #expect(try store.memberships(userID: "ola").first?.channel.description == "Nytt")
        try expectAllSucceed(store, [.describeChannel(name: "general", description: nil)])
        #expect(try store.channel(named: "general")?.description == nil)
        let unknown = try store.write([.describeChannel(name: "nowhere", description: "x")])
        #expect(unknown.first?.failure?.kind == .notFound)
        #expect(try store.channel(named: "aarsmote")?.createdBy == "ola")
        #expect(try store.channel(named: "general")?.createdBy == nil)
    }
}
