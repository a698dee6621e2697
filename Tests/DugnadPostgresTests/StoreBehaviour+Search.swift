import DugnadCore
import DugnadProtocol
import Testing

/// Full-text search on every store: whole words and prefixes, Unicode case folding with
/// Norwegian letters kept as letters, only the channels given, the filters, the ranking,
/// and an index that follows edits and deletions made by any writer.
extension StoreBehaviour {
    static let search: [Behaviour] = [
        Behaviour(
            name: "search finds whole words and prefixes, folds case, and keeps å, æ and ø as letters",
            check: searchFindsWordsAndPrefixesWithNorwegianLetters),
        Behaviour(
            name: "search reads only the channels it is given, and filters by author and time",
            check: searchReadsOnlyTheGivenChannelsAndFilters),
        Behaviour(
            name: "search ranks the denser match first and says when more matched than the limit",
            check: searchRanksDenserMatchesFirst),
        Behaviour(
            name: "the search index follows edits and deletions made beside the store",
            check: searchIndexFollowsEditsAndDeletions),
        Behaviour(
            name: "query-language characters in a query are separators or words, never operators",
            check: searchQueryCannotReachTheQueryLanguage),
    ]

    private static func searchChannels(_ store: any Store) throws {
        try expectAllSucceed(
            store,
            [
                .createChannel(name: "general", kind: .public, title: "General", createdAt: 1),
                .createChannel(name: "board", kind: .private, title: "Board", createdAt: 1),
                .publish(newMessage("m1", channel: "general", from: "ola", body: "Årsmøtet er flyttet til torsdag", ts: 1_000)),
                .publish(newMessage("m2", channel: "general", from: "kari", body: "Kaffemaskinen er ødelagt igjen", ts: 2_000)),
                .publish(newMessage("m3", channel: "general", from: "ola", body: "Vi trenger KAFFE og kake", ts: 3_000)),
                .publish(newMessage("m4", channel: "general", from: "kari", body: "Får vi kake?", ts: 4_000)),
                .publish(newMessage("m5", channel: "general", from: "per", body: "far kommer i morgen", ts: 5_000)),
                .publish(newMessage("m6", channel: "general", from: "per", body: "ÆØÅ-gruppa: se dugnad.no", ts: 6_000)),
                .publish(newMessage("m7", channel: "board", from: "kari", body: "Kaffe til styret, budsjett 2027", ts: 7_000)),
            ])
    }

    /// The ids found for `query` in `channels`, best first.
    private static func found(
        _ store: any Store, _ query: String, in channels: [String] = ["general"], from: String? = nil,
        before: Int64? = nil, limit: Int = 20
    ) throws -> [String] {
        let search = MessageSearch(
            terms: try SearchTerms.parse(query), channels: channels, fromID: from, beforeTS: before, limit: limit)
        return try store.searchMessages(search).messages.map(\.id)
    }

    static func searchFindsWordsAndPrefixesWithNorwegianLetters(_ harness: any StoreHarness) throws {
        let store = harness.store
        try searchChannels(store)
        #expect(try found(store, "årsmøt") == ["m1"], "a prefix, in lower case, finds the word in upper case")
        #expect(try found(store, "ÅRSMØTET") == ["m1"], "the whole word, in upper case")
        #expect(try found(store, "torsdag") == ["m1"])
        #expect(Set(try found(store, "kaffe")) == ["m2", "m3"], "a whole word, and the beginning of a longer one")
        #expect(try found(store, "far") == ["m5"], "'far' is not 'får'")
        #expect(try found(store, "får") == ["m4"])
        #expect(try found(store, "ødelagt") == ["m2"])
        #expect(try found(store, "æøå") == ["m6"], "æ, ø and å fold from upper case")
        #expect(try found(store, "dugnad") == ["m6"], "a dot separates words")
        #expect(try found(store, "gruppa") == ["m6"], "so does a dash")
        #expect(try found(store, "kaffe kake") == ["m3"], "every word must be there")
        #expect(try found(store, "i") == ["m5"], "one letter finds the whole word only")
        #expect(try found(store, "ost").isEmpty, "nothing in the middle of a word")
    }

    static func searchReadsOnlyTheGivenChannelsAndFilters(_ harness: any StoreHarness) throws {
        let store = harness.store
        try searchChannels(store)
        #expect(!(try found(store, "budsjett").contains("m7")), "board is not among the channels given")
        #expect(try found(store, "budsjett", in: ["board"]) == ["m7"])
        #expect(Set(try found(store, "kaffe", in: ["general", "board"])) == ["m2", "m3", "m7"])
        #expect(try found(store, "kaffe", in: ["general", "board"], from: "kari").sorted() == ["m2", "m7"])
        #expect(try found(store, "kaffe", in: ["general", "board"], before: 3_000) == ["m2"], "before is exclusive")
        #expect(try found(store, "kaffe", from: "nobody").isEmpty)
    }

    static func searchRanksDenserMatchesFirst(_ harness: any StoreHarness) throws {
        let store = harness.store
        try createChannels(store, "general")
        let filler = "vi snakker om mye forskjellig her i dag og i morgen og neste uke ogsa"
        try expectAllSucceed(
            store,
            [
                .publish(newMessage("dense", channel: "general", body: "møte møte møte", ts: 1_000)),
                .publish(newMessage("sparse", channel: "general", body: "\(filler) møte \(filler)", ts: 2_000)),
                .publish(newMessage("none", channel: "general", body: filler, ts: 3_000)),
            ])
        #expect(try found(store, "møte") == ["dense", "sparse"], "the older, denser match first")
        let one = try store.searchMessages(
            MessageSearch(terms: try SearchTerms.parse("møte"), channels: ["general"], limit: 1))
        #expect(one.messages.map(\.id) == ["dense"])
        #expect(one.hasMore)
        let two = try store.searchMessages(
            MessageSearch(terms: try SearchTerms.parse("møte"), channels: ["general"], limit: 2))
        #expect(!two.hasMore)
    }

    static func searchIndexFollowsEditsAndDeletions(_ harness: any StoreHarness) throws {
        let store = harness.store
        try searchChannels(store)
        try harness.execute("UPDATE messages SET body = 'Generalforsamlingen er flyttet' WHERE id = 'm1'")
        #expect(try found(store, "årsmøt").isEmpty, "the old words are gone")
        #expect(try found(store, "generalforsamling") == ["m1"], "the new ones are found")
        let edited = try store.searchMessages(
            MessageSearch(terms: try SearchTerms.parse("flyttet"), channels: ["general"], limit: 5))
        #expect(edited.messages.first?.body == "Generalforsamlingen er flyttet", "the current body comes back")
        try harness.execute("UPDATE messages SET body = '' WHERE id = 'm3'")
        #expect(try found(store, "kaffe") == ["m2"], "a message emptied (deleted) is never found")
        try harness.execute("DELETE FROM messages WHERE id = 'm2'")
        #expect(try found(store, "kaffe").isEmpty, "nor a message removed")
        #expect(try found(store, "kake") == ["m4"])
        if let sqlite = harness as? SQLiteHarness {
            // FTS5 compares the index with the content table: any drift fails the statement.
            try sqlite.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
        }
    }

    static func searchQueryCannotReachTheQueryLanguage(_ harness: any StoreHarness) throws {
        let store = harness.store
        try searchChannels(store)
        let hostile = "\"kaffe\" OR NEAR(kake, 2) -te* ^x: {kake} 'a' & | ! <-> \\"
        let terms = try SearchTerms.parse(hostile)
        #expect(terms.terms.map(\.text) == ["kaffe", "or", "near", "kake", "2", "te", "x", "a"])
        #expect(try found(store, hostile).isEmpty, "every word must be there, 'or' and 'near' included")
        try expectAllSucceed(
            store, [.publish(newMessage("m8", channel: "general", body: "Kaffe OR kake, near 2 te x a", ts: 8_000))])
        #expect(try found(store, hostile) == ["m8"], "the operators were words all along")
        #expect(Set(try found(store, "\"kaffe\"*")) == Set(try found(store, "kaffe")), "quotes and a star change nothing")
    }
}
