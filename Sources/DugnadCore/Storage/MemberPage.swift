/// Which page of a channel's members to read (`Store.members`): members ordered by user
/// id, starting after `afterUserID`.
///
/// Read as a history page is: the engine fetches at most `fetchLimit` members in user id
/// order after `afterUserID` (from the first when nil), and `page(fromFetched:)` makes the
/// result of them.
public struct MemberPage: Sendable, Equatable {
    /// The page starts after this user id; nil for the first page.
    public var afterUserID: String?
    /// The most members the page holds (never negative).
    public var limit: Int

    /// A negative `limit` asks for none.
    public init(afterUserID: String?, limit: Int) {
        self.afterUserID = afterUserID
        self.limit = max(0, limit)
    }

    /// Rows to fetch: one more than `limit`, so that the extra row tells whether more follow.
    public var fetchLimit: Int { limit + 1 }

    /// The page made of the rows fetched (at most `fetchLimit`, in user id order): at most
    /// `limit` rows, and whether more follow.
    public func page<Row>(fromFetched rows: [Row]) -> (rows: [Row], hasMore: Bool) {
        rows.splittingPage(limit: limit)
    }
}
