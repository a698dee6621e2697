import Testing

@testable import DugnadCore

/// `HistoryPage` and `MemberPage`: what every engine fetches for a page and how the rows
/// fetched become the page, without a database.
@Suite struct StoragePagingTests {
    @Test func historyPagesFetchOneRowMoreThanTheyHold() {
        #expect(HistoryPage.latest(limit: 50).fetchLimit == 51)
        #expect(HistoryPage.before(seq: 9, limit: 2).fetchLimit == 3)
        #expect(HistoryPage.after(seq: 9, limit: 0).fetchLimit == 1)
        #expect(HistoryPage.latest(limit: -5).limit == 0)
        #expect(HistoryPage.latest(limit: -5).fetchLimit == 1)
    }

    @Test func pagesEndingAtTheirBoundAreFetchedNewestFirstAndReturnedAscending() {
        let page = HistoryPage.before(seq: 10, limit: 3)
        #expect(page.isNewestFirst)
        let full = page.page(fromFetched: [9, 8, 7, 6])
        #expect(full.rows == [7, 8, 9])
        #expect(full.hasMore)
        let short = page.page(fromFetched: [2, 1])
        #expect(short.rows == [1, 2])
        #expect(!short.hasMore)
        #expect(HistoryPage.latest(limit: 2).page(fromFetched: [5, 4, 3]) == ([4, 5], true))
    }

    @Test func pagesStartingAtTheirBoundAreFetchedOldestFirst() {
        let page = HistoryPage.after(seq: 3, limit: 2)
        #expect(!page.isNewestFirst)
        #expect(page.page(fromFetched: [4, 5, 6]) == ([4, 5], true))
        #expect(page.page(fromFetched: [4, 5]) == ([4, 5], false))
        #expect(page.page(fromFetched: [Int]()) == ([], false))
    }

    @Test func memberPagesKeepTheOrderFetched() {
        let page = MemberPage(afterUserID: "u1", limit: 2)
        #expect(page.fetchLimit == 3)
        #expect(page.page(fromFetched: ["u2", "u3", "u4"]) == (["u2", "u3"], true))
        #expect(page.page(fromFetched: ["u2", "u3"]) == (["u2", "u3"], false))
        #expect(MemberPage(afterUserID: nil, limit: -1).limit == 0)
        #expect(MemberPage(afterUserID: nil, limit: 0).page(fromFetched: ["u1"]) == ([], true))
    }
}
