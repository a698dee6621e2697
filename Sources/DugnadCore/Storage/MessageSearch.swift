/// What a store reads for one `search`: the messages of `channels` that hold every term,
/// best first. The hub decided which channels the caller may read; the store reads nothing
/// outside them.
public struct MessageSearch: Sendable, Equatable {
    public var terms: SearchTerms
    /// The channels to search (the caller may read each now); never empty.
    public var channels: [String]
    /// Only messages by this author.
    public var fromID: String?
    /// Only messages with a `ts` below this.
    public var beforeTS: Int64?
    /// How many to return; a store reads one more to tell whether more matched.
    public var limit: Int

    public init(terms: SearchTerms, channels: [String], fromID: String? = nil, beforeTS: Int64? = nil, limit: Int) {
        self.terms = terms
        self.channels = channels
        self.fromID = fromID
        self.beforeTS = beforeTS
        self.limit = limit
    }

    /// How many of the newest matching messages are ranked, at most. Ranking scores every
    /// candidate, and a common word is in most messages (in the benchmark's history, one
    /// word is in 436,603 of 575,000): with the cap, SQLite spends at most about 50 ms of
    /// CPU on such a word (docs/benchmarks.md). The newest 2,000 matches are what a person
    /// searching a chat wants ranked; more words, `channel`, `from` and `before` reach
    /// older ones.
    public static let candidateLimit = 2_000
}
