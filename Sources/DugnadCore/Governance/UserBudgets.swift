import NIOConcurrencyHelpers

/// Rate budgets per person (and per API key), shared by every connection of that user on
/// this node: a limit one person could multiply by opening more connections would be no
/// limit. (With several nodes each node keeps its own, so the most a person gets is the
/// budget times the number of nodes; see docs/operations.md, "Governance".)
///
/// A user's buckets live in one of 16 shards chosen by the user id, each behind its own
/// lock, so connections of different users rarely wait for one another. A bucket that has
/// refilled completely is the same as a new one, so `forgetFull` drops such entries: the
/// table holds the users who spent something recently, and one who reconnects keeps what
/// it has spent.
public final class UserBudgets: Sendable {
    public enum Kind: Int, CaseIterable, Sendable {
        /// Any command (floods of cheap commands).
        case command
        case publish
        /// `announce` and `remind` together.
        case announce
        /// Channels made by `join`: a burst per day is enforced by storage (the quota);
        /// this bucket only spaces them out.
        case channelCreation
        /// `search` (WebSocket and HTTP): a search of a common word costs up to about 50 ms
        /// of a read thread (docs/benchmarks.md), far more than any other read.
        case search
    }

    public struct Rate: Sendable, Equatable {
        public var perSecond: Double
        public var burst: Double

        public init(perSecond: Double, burst: Double) {
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    private let rates: [Rate]
    private let shards: [NIOLockedValueBox<[String: [TokenBucket]]>]

    /// `rates` gives each kind's rate (in `Kind`'s order).
    public init(rates: [Kind: Rate]) {
        self.rates = Kind.allCases.map { rates[$0] ?? Rate(perSecond: 1, burst: 1) }
        self.shards = (0..<16).map { _ in NIOLockedValueBox([:]) }
    }

    /// Takes one from the user's `kind` budget: nil when allowed, else the milliseconds
    /// until it would be.
    public func take(_ kind: Kind, for userID: String, now: UInt64) -> Int? {
        shard(of: userID).withLockedValue { table in
            var buckets =
                table[userID]
                ?? rates.map { TokenBucket(rate: $0.perSecond, burst: $0.burst, now: now) }
            let retry = buckets[kind.rawValue].take(now: now)
            table[userID] = buckets
            return retry
        }
    }

    /// Drops the entries whose buckets are all full (called every few seconds).
    public func forgetFull(now: UInt64) {
        for shard in shards {
            shard.withLockedValue { table in
                table = table.filter { _, buckets in !buckets.allSatisfy { $0.isFull(now: now) } }
            }
        }
    }

    /// Users with an entry (for tests and metrics).
    public var trackedUsers: Int {
        shards.reduce(0) { sum, shard in sum + shard.withLockedValue { $0.count } }
    }

    private func shard(of userID: String) -> NIOLockedValueBox<[String: [TokenBucket]]> {
        var hash: UInt32 = 2_166_136_261
        for byte in userID.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return shards[Int(hash % UInt32(shards.count))]
    }
}
