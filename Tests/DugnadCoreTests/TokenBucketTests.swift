import Testing

@testable import DugnadCore

/// `TokenBucket` with an injected nanosecond clock: no sleeping, exact arithmetic.
@Suite struct TokenBucketTests {
    private static let second: UInt64 = 1_000_000_000
    private static let millisecond: UInt64 = 1_000_000

    /// Takes tokens at `now` until refused; returns how many were granted.
    private func drain(_ bucket: inout TokenBucket, at now: UInt64, upTo limit: Int = 1_000) -> Int {
        var granted = 0
        while granted < limit, bucket.take(now: now) == nil { granted += 1 }
        return granted
    }

    @Test func freshBucketAllowsExactlyTheBurst() {
        var bucket = TokenBucket(rate: 2, burst: 5, now: 0)
        #expect(drain(&bucket, at: 0) == 5)
        #expect(bucket.take(now: 0) != nil)
    }

    @Test func emptyBucketReportsTheTimeUntilTheNextToken() {
        var bucket = TokenBucket(rate: 2, burst: 1, now: 0)
        #expect(bucket.take(now: 0) == nil)
        // Two tokens a second: the next one is 500 ms away.
        #expect(bucket.take(now: 0) == 500)
        #expect(bucket.take(now: 250 * Self.millisecond) == 250)
    }

    @Test func refusedTakesDoNotConsumeAnything() {
        var bucket = TokenBucket(rate: 2, burst: 1, now: 0)
        _ = bucket.take(now: 0)
        for _ in 0..<10 { #expect(bucket.take(now: 0) == 500) }
        #expect(bucket.take(now: 500 * Self.millisecond) == nil)
    }

    @Test func refillsAtTheConfiguredRate() {
        var bucket = TokenBucket(rate: 4, burst: 4, now: 0)
        #expect(drain(&bucket, at: 0) == 4)
        // 4 a second: one token every 250 ms.
        #expect(bucket.take(now: 249 * Self.millisecond) != nil)
        #expect(bucket.take(now: 250 * Self.millisecond) == nil)
        #expect(bucket.take(now: 250 * Self.millisecond) != nil)
        #expect(drain(&bucket, at: 1_000 * Self.millisecond) == 3)
    }

    @Test func retryAfterRoundsUpToWholeMilliseconds() {
        var bucket = TokenBucket(rate: 3, burst: 1, now: 0)
        _ = bucket.take(now: 0)
        // 1/3 s is 333.3 ms: waiting 333 ms would not be enough.
        #expect(bucket.take(now: 0) == 334)
    }

    @Test func retryAfterIsAtLeastOneMillisecond() {
        var bucket = TokenBucket(rate: 1, burst: 1, now: 0)
        _ = bucket.take(now: 0)
        // A hair short of a full token: less than a millisecond remains, still reported as 1.
        #expect(bucket.take(now: Self.second - 1) == 1)
    }

    @Test func neverHoldsMoreThanTheBurst() {
        var bucket = TokenBucket(rate: 100, burst: 3, now: 0)
        #expect(drain(&bucket, at: 0) == 3)
        #expect(drain(&bucket, at: 3_600 * Self.second) == 3)
    }

    @Test func partialRefillAccumulatesAcrossCalls() {
        var bucket = TokenBucket(rate: 1, burst: 1, now: 0)
        _ = bucket.take(now: 0)
        #expect(bucket.take(now: 400 * Self.millisecond) == 600)
        #expect(bucket.take(now: 800 * Self.millisecond) == 200)
        #expect(bucket.take(now: 1_000 * Self.millisecond) == nil)
    }

    @Test func zeroRateRefusesWithoutCrashing() async {
        // `dugnad serve --publish-rate 0` builds such a bucket; once the burst is spent the
        // retry-after is 1/0 ms, and converting infinity to Int traps. Run in a child process.
        await #expect(processExitsWith: .success) {
            var bucket = TokenBucket(rate: 0, burst: 1, now: 0)
            _ = bucket.take(now: 0)
            _ = bucket.take(now: 1_000_000_000)
        }
        var bucket = TokenBucket(rate: 0, burst: 1, now: 0)
        #expect(bucket.take(now: 0) == nil)
        #expect(bucket.take(now: 1_000_000_000) == 3_600_000)
    }

    @Test func clockGoingBackwardsNeitherRefillsNorDrains() {
        var bucket = TokenBucket(rate: 1, burst: 2, now: 10 * Self.second)
        #expect(drain(&bucket, at: 10 * Self.second) == 2)
        #expect(bucket.take(now: 5 * Self.second) == 1_000)
        #expect(bucket.take(now: 11 * Self.second) == nil)
    }
}
