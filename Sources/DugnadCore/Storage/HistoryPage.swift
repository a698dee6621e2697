/// Which page of a channel's history to read. Results are always in ascending seq.
///
/// Every engine reads a page the same way, so the arithmetic is here: the engine fetches
/// at most `fetchLimit` rows of the channel beyond the page's bound, newest first or oldest
/// first as `isNewestFirst` says, and `page(fromFetched:)` makes the result of them.
public enum HistoryPage: Sendable, Equatable {
    /// The `limit` newest messages.
    case latest(limit: Int)
    /// The `limit` messages just before `seq`.
    case before(seq: Int64, limit: Int)
    /// The `limit` messages just after `seq`.
    case after(seq: Int64, limit: Int)
}

extension HistoryPage {
    /// The most messages the page holds; a negative limit asks for none.
    public var limit: Int {
        switch self {
        case .latest(let limit), .before(_, let limit), .after(_, let limit): max(0, limit)
        }
    }

    /// Rows to fetch: one more than `limit`, so that the extra row tells whether more exist
    /// beyond the page, whatever gaps a future history reset might leave in the seqs.
    public var fetchLimit: Int { limit + 1 }

    /// Whether rows are fetched newest first (`.latest`, `.before`: the page ends at its
    /// bound) or oldest first (`.after`: the page starts at its bound).
    public var isNewestFirst: Bool {
        switch self {
        case .latest, .before: true
        case .after: false
        }
    }

    /// The page made of the rows fetched (at most `fetchLimit`, in the order
    /// `isNewestFirst` says): at most `limit` rows in ascending seq, and whether more exist
    /// beyond the page in the direction asked (older ones for `.latest` and `.before`).
    public func page<Row>(fromFetched rows: [Row]) -> (rows: [Row], hasMore: Bool) {
        let (kept, hasMore) = rows.splittingPage(limit: limit)
        return (isNewestFirst ? kept.reversed() : kept, hasMore)
    }
}

extension Array {
    /// Rows fetched with one more than `limit` (see `HistoryPage.fetchLimit`): the first
    /// `limit` of them, and whether there were more.
    public func splittingPage(limit: Int) -> (rows: [Element], hasMore: Bool) {
        guard count > limit else { return (self, false) }
        var rows = self
        rows.removeLast(count - limit)
        return (rows, true)
    }
}
