/// A page of rows in key order after a given key (channels by name, the audit log by seq):
/// the engine fetches at most `fetchLimit` rows past the key, and `page(fromFetched:)`
/// keeps `limit` of them and says whether more follow.
public struct KeysetPage: Sendable, Equatable {
    /// The most rows the page holds (never negative).
    public var limit: Int

    public init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// One more than `limit`: the extra row tells whether more follow.
    public var fetchLimit: Int { limit + 1 }

    /// The rows of the page and whether more follow (unlabelled, so that each store names
    /// them for what they are: channels, entries).
    public func page<Row>(fromFetched rows: [Row]) -> ([Row], Bool) {
        let split = rows.splittingPage(limit: limit)
        return (split.rows, split.hasMore)
    }
}
