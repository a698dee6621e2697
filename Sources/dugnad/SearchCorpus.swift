import DugnadCore

/// A year of an intranet's conversation for `dugnad bench search`: Norwegian-looking
/// messages over a vocabulary whose word frequencies follow Zipf's law, as real text does
/// (a few words in a third of all messages, most words in a handful), so that a search
/// for a common word, a rare one or a prefix costs what it would cost on a real history.
/// Deterministic for a seed.
struct SearchCorpus {
    /// The words, most frequent first: the demo company's own words, then made-up words of
    /// Norwegian syllables (with æ, ø and å).
    let vocabulary: [String]
    /// Cumulative Zipf weights (exponent 1) over `vocabulary`, for sampling by rank.
    private let cumulative: [Double]
    var random: DemoSeeder.Random

    init(seed: UInt64, madeUpWords: Int = 40_000) {
        random = DemoSeeder.Random(state: seed)
        var seen: Set<String> = []
        var words: [String] = []
        let lines = DemoCompany.channels.flatMap(\.lines) + DemoCompany.replies
        for word in lines.flatMap({ SearchTerms.words(in: $0) }).map({ $0.lowercased() }) where seen.insert(word).inserted {
            words.append(word)
        }
        var syllables = DemoSeeder.Random(state: seed ^ 0x5EED)
        let total = words.count + madeUpWords
        while words.count < total {
            let word = (0..<(1 + Int(syllables.next() % 3))).map { _ in Self.syllable(&syllables) }.joined()
            if word.count > 2, seen.insert(word).inserted { words.append(word) }
        }
        vocabulary = words
        var sum = 0.0
        cumulative = words.indices.map { rank in
            sum += 1 / Double(rank + 1)
            return sum
        }
    }

    private static let onsets = [
        "", "b", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "bl", "br", "dr", "fl", "fr",
        "gl", "gr", "kj", "kl", "kr", "pl", "pr", "sk", "skj", "sl", "sm", "sn", "sp", "st", "str", "sv", "tr",
    ]
    private static let vowels = ["a", "e", "i", "o", "u", "y", "æ", "ø", "å", "ei", "au", "øy"]
    private static let codas = ["", "", "n", "r", "l", "t", "s", "k", "m", "ng", "nd", "rt", "st", "kk", "ll", "tt"]

    private static func syllable(_ random: inout DemoSeeder.Random) -> String {
        random.pick(onsets) + random.pick(vowels) + random.pick(codas)
    }

    /// A word's rank drawn by Zipf's law (0 is the most frequent).
    mutating func rank() -> Int {
        let target = random.unit() * (cumulative.last ?? 1)
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// One chat line: 3 to 30 words (most around 10), a capital first letter, now and then
    /// a comma, a question, a name in capitals or an emoji.
    mutating func message() -> String {
        let count = 3 + Int(random.next() % 10) + Int(random.next() % 10) + Int(random.next() % 9)
        var text = ""
        for index in 0..<count {
            var word = vocabulary[rank()]
            if index == 0 || random.chance(0.03) { word = word.prefix(1).uppercased() + word.dropFirst() }
            if index > 0 { text += random.chance(0.08) ? ", " : " " }
            text += word
        }
        if random.chance(0.05) { text += " " + random.pick(DemoCompany.reactions) }
        return text + random.pick([".", ".", "!", "?", ""])
    }
}
