import Foundation
import Testing

@testable import DugnadCore

/// `EngagementWindow`: the window, the days it lists and the arithmetic every engine
/// shares. The figures of a known scenario run on SQLite and PostgreSQL alike in
/// `StoreBehaviour`.
@Suite struct EngagementWindowTests {
    private static let day: Int64 = 86_400_000
    private static let hour: Int64 = 3_600_000

    @Test func daysAreClampedToTenYears() {
        let now = 20_000 * Self.day
        #expect(EngagementWindow(days: -3, now: now).days == 0)
        #expect(EngagementWindow(days: -3, now: now).from == now)
        #expect(EngagementWindow(days: 99_999, now: now).days == 3_660)
        let week = EngagementWindow(days: 7, now: now)
        #expect(week.from == now - 7 * Self.day)
        #expect(week.to == now)
    }

    @Test func dailyFiguresListTheLastDaysTodayIncluded() {
        let window = EngagementWindow(days: 3, now: 10 * Self.day + 12 * Self.hour)
        #expect(window.dailyDays == 8...10)
        let daily = window.dailyFigures(activeUsers: [(day: 9, users: 2), (day: 10, users: 1), (day: 9, users: 1)])
        #expect(daily.map(\.day) == ["1970-01-09", "1970-01-10", "1970-01-11"])
        #expect(daily.map(\.activeUsers) == [0, 3, 1])
        #expect(EngagementWindow(days: 0, now: 10 * Self.day).dailyFigures(activeUsers: [(day: 10, users: 1)]).isEmpty)
        // Before 1970 the day is still the one the time falls in.
        #expect(EngagementWindow(days: 1, now: -Self.hour).dailyDays == -1...(-1))
    }

    @Test func messageSpansSplitTheWindowIntoWholeDaysAndTheTwoPartialOnes() {
        let day = Self.day
        let hour = Self.hour
        let year = EngagementWindow(days: 365, now: 400 * day + 10 * hour)
        #expect(year.messageSpans.wholeDays == 36...399)
        #expect(year.messageSpans.partial == [(35 * day + 10 * hour)...(36 * day - 1), (400 * day)...(400 * day + 10 * hour)])
        // One day from mid-morning: no whole day, the two parts still cover it.
        let oneDay = EngagementWindow(days: 1, now: 400 * day + 10 * hour)
        #expect(oneDay.messageSpans.wholeDays == nil)
        #expect(oneDay.messageSpans.partial == [(399 * day + 10 * hour)...(400 * day - 1), (400 * day)...(400 * day + 10 * hour)])
        // Within one day (days 0) the window is read as it is.
        let empty = EngagementWindow(days: 0, now: 400 * day + 10 * hour)
        #expect(empty.messageSpans.wholeDays == nil)
        #expect(empty.messageSpans.partial == [(400 * day + 10 * hour)...(400 * day + 10 * hour)])
        // Every millisecond of the window is in exactly one span.
        for window in [year, oneDay, EngagementWindow(days: 2, now: 7 * day)] {
            let spans = window.messageSpans
            let whole = spans.wholeDays.map { Int64($0.count) * day } ?? 0
            let partial = spans.partial.reduce(Int64(0)) { $0 + $1.upperBound - $1.lowerBound + 1 }
            #expect(whole + partial == window.to - window.from + 1)
        }
    }

    @Test func channelsWithMessagesOrReadersAreSortedByMessagesThenName() {
        let figures = EngagementWindow.channelFigures(
            messages: [(channel: "b", messages: 2, posters: 1), (channel: "c", messages: 5, posters: 2)],
            readers: [(channel: "a", readers: 3), (channel: "b", readers: 1)])
        #expect(
            figures == [
                .init(channel: "c", messages: 5, activePosters: 2, activeReaders: 0),
                .init(channel: "b", messages: 2, activePosters: 1, activeReaders: 1),
                .init(channel: "a", messages: 0, activePosters: 0, activeReaders: 3),
            ])
    }

    @Test func theMedianIsTheMiddleReadOrTheMeanOfTheTwoMiddleOnes() {
        #expect(EngagementWindow.middleReads(of: 0) == nil)
        #expect(EngagementWindow.middleReads(of: 1)! == (limit: 1, offset: 0))
        #expect(EngagementWindow.middleReads(of: 4)! == (limit: 2, offset: 1))
        #expect(EngagementWindow.middleReads(of: 5)! == (limit: 1, offset: 2))
        #expect(EngagementWindow.medianMillisToRead(middle: [1_300], postedAt: 1_000) == 300)
        #expect(EngagementWindow.medianMillisToRead(middle: [1_300, 1_401], postedAt: 1_000) == 350)
        #expect(EngagementWindow.medianMillisToRead(middle: [], postedAt: 1_000) == nil)
    }

    @Test func utcDatesMatchFoundation() {
        #expect(EngagementWindow.utcDate(daysSinceEpoch: 0) == "1970-01-01")
        #expect(EngagementWindow.utcDate(daysSinceEpoch: 19_782) == "2024-02-29")
        #expect(EngagementWindow.utcDate(daysSinceEpoch: -1) == "1969-12-31")
        for days in stride(from: Int64(0), through: 60_000, by: 37) {
            #expect(EngagementWindow.utcDate(daysSinceEpoch: days) == isoDate(days * Self.day))
        }
    }
}

/// `YYYY-MM-DD` of a time in UTC, through Foundation: an independent check of the
/// arithmetic.
private func isoDate(_ millis: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.formatOptions = [.withFullDate]
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(millis / 1_000)))
}
