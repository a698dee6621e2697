import ArgumentParser
import DugnadCore
import Foundation

/// `dugnad bench search`: fills a store with a generated year of an intranet's messages
/// (or reuses the one filled before) and measures `searchMessages`, the `Store` seam the
/// `search` command reads through, for several kinds of query. Runs on the store itself,
/// with no hub: what is measured is the engine's search, as the hub's read pool calls it.
struct SearchBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Measure full-text search on a generated year of messages (SQLite or PostgreSQL).",
        discussion: """
            Fills the store in --data-dir (or --database) with --messages messages over
            --channels channels (one in ten private) by --people people, spread over the
            last 365 days, unless it already holds them; then runs --queries searches of
            each kind (a common word, a frequent one, a medium one, a rare one, a
            three-letter prefix, two words, a medium word in one channel) as a person in
            every public channel and three private ones would, and prints p50 and p99 of
            the latency per kind. Use a folder or database of its own: it is filled with
            made-up messages.

              dugnad bench search --data-dir /tmp/search-bench --messages 2000000
            """)

    @Option(help: "Data folder for the SQLite file (unless --database is given).")
    var dataDir = "search-bench-data"

    @Option(help: ArgumentHelp("PostgreSQL URL instead of SQLite.", valueName: "url"))
    var database: String?

    @Option(help: "Messages in the generated history.")
    var messages = 2_000_000

    @Option(help: "Channels they are spread over.")
    var channels = 200

    @Option(help: "People who write them.")
    var people = 500

    @Option(help: "Searches of each kind (0: only fill the store).")
    var queries = 200

    @Option(help: "Results asked for per search (the command's default is 20).")
    var limit = 20

    @Option(help: "Seed of the generated text and of the queries.")
    var seed: UInt64 = 2027

    func run() throws {
        let store = try StorageEngine.forTools(databaseURL: database, dataDirectory: dataDir)
        try store.prepare()
        var corpus = SearchCorpus(seed: seed)
        let names = (0..<channels).map { String(format: "kanal-%03d", $0) }
        let stored = try store.allChannels().filter { $0.name.hasPrefix("kanal-") }.reduce(0) { $0 + $1.lastSeq }
        if stored < messages {
            try fill(store, names: names, from: Int(stored), corpus: &corpus)
            // Indexed before the clock starts (SQLite indexes in batches after the writes),
            // so that the first query does not carry the whole corpus.
            try store.catchUpDeferredWork()
        } else {
            print("reusing \(stored) messages in \(names.count) channels")
        }
        guard queries > 0 else { return store.close() }
        // Public channels and three private ones: the channel list an ordinary person searches.
        let searched = names.enumerated().filter { $0.offset % 10 != 9 || $0.offset < 30 }.map(\.element)
        print(
            "engine: \(database == nil ? "SQLite (\(dataDir))" : "PostgreSQL"), searching \(searched.count) channels, limit \(limit)"
        )
        print("kind                 p50 ms   p99 ms   max ms   cpu p50  cpu p99   mean hits")
        var random = DemoSeeder.Random(state: seed ^ 0xBEEF)
        for kind in QueryKind.allCases {
            var latencies: [Double] = []
            var cpu: [Double] = []
            var hits = 0
            for round in 0..<(queries + 10) {
                let (text, only) = kind.query(corpus.vocabulary, channels: searched, &random)
                let search = MessageSearch(
                    terms: try SearchTerms.parse(text), channels: only.map { [$0] } ?? searched, limit: limit)
                let start = ContinuousClock.now
                let cpuStart = Self.threadCPUMillis()
                let found = try store.searchMessages(search)
                let cpuUsed = Self.threadCPUMillis() - cpuStart
                let elapsed = ContinuousClock.now - start
                // The first ten warm the caches and are not counted.
                if round >= 10 {
                    latencies.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
                    cpu.append(cpuUsed)
                    hits += found.messages.count
                }
            }
            latencies.sort()
            cpu.sort()
            let p50 = latencies[latencies.count / 2]
            let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
            let cpu50 = cpu[cpu.count / 2]
            let cpu99 = cpu[min(cpu.count - 1, cpu.count * 99 / 100)]
            print(
                kind.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)
                    + String(
                        format: "%9.2f%9.2f%9.2f%9.2f%9.2f%12.1f", p50, p99, latencies.last ?? 0, cpu50, cpu99,
                        Double(hits) / Double(queries)))
        }
        store.close()
    }

    /// CPU time of the calling thread: on SQLite the search runs on it (GRDB reads on the
    /// caller's thread), so this is the search's own cost, whatever else the machine runs.
    /// On PostgreSQL the work is the server's, and this is the client's share only.
    private static func threadCPUMillis() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1e3 + Double(time.tv_nsec) / 1e6
    }

    /// Writes the history in batches of 1,000 publishes (the writer's group commit), after
    /// the people and channels.
    private func fill(_ store: any Store, names: [String], from already: Int, corpus: inout SearchCorpus) throws {
        let year: Int64 = 365 * 86_400_000
        let start = WallClock.nowMillis() - year
        let authors = (0..<people).map { String(format: "ansatt-%03d", $0) }
        if already == 0 {
            _ = try store.write(authors.map { .upsertUser(id: $0, name: $0, roles: [], seenAt: start) })
            _ = try store.write(
                names.enumerated().map { index, name in
                    .createChannel(name: name, kind: index % 10 == 9 ? .private : .public, title: name, createdAt: start)
                })
        }
        let began = ContinuousClock.now
        var batch: [WriteOp] = []
        for index in already..<messages {
            let ts = start + Int64(index) * year / Int64(messages)
            batch.append(
                .publish(
                    NewMessage(
                        id: String(format: "m_bench%09d", index), channel: corpus.random.pick(names),
                        fromID: corpus.random.pick(authors), fromName: "", body: corpus.message(), metaJSON: nil,
                        replyTo: nil, clientID: nil, ts: ts)))
            if batch.count == 1_000 || index == messages - 1 {
                for result in try store.write(batch) {
                    if case .failure(let error) = result { throw error }
                }
                batch.removeAll(keepingCapacity: true)
                if (index + 1) % 100_000 == 0 || index == messages - 1 {
                    let seconds = (ContinuousClock.now - began).components.seconds
                    FileHandle.standardError.write(Data("filled \(index + 1) messages (\(seconds) s)\n".utf8))
                }
            }
        }
        let elapsed = ContinuousClock.now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(
            String(
                format: "filled %d messages in %.0f s (%.0f/s)", messages - already, seconds, Double(messages - already) / seconds
            ))
    }

    /// The kinds of query measured, from the vocabulary's frequency ranks.
    enum QueryKind: String, CaseIterable {
        case common = "common word"
        case frequent = "frequent word"
        case medium = "medium word"
        case rare = "rare word"
        case prefix = "3-letter prefix"
        case twoWords = "two words"
        case oneChannel = "word in 1 channel"

        func query(_ vocabulary: [String], channels: [String], _ random: inout DemoSeeder.Random) -> (String, String?) {
            func word(_ ranks: Range<Int>) -> String {
                while true {
                    let candidate = vocabulary[ranks.lowerBound + Int(random.next() % UInt64(ranks.count))]
                    if candidate.count > 1 { return candidate }
                }
            }
            switch self {
            case .common: return (word(0..<10), nil)
            case .frequent: return (word(10..<100), nil)
            case .medium: return (word(100..<3_000), nil)
            case .rare: return (word(3_000..<vocabulary.count), nil)
            case .prefix:
                while true {
                    let candidate = word(100..<3_000)
                    if candidate.count > 3 { return (String(candidate.prefix(3)), nil) }
                }
            case .twoWords: return (word(10..<100) + " " + word(100..<3_000), nil)
            case .oneChannel: return (word(100..<3_000), random.pick(channels))
            }
        }
    }
}
