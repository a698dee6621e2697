/// Which messages of its channel one subscriber has received, to count each delivery once and
/// tell loss from duplication. The hub's `seq` is gapless per channel, so a subscriber only
/// needs the highest seq up to which it has everything, plus the few it received out of order.
///
/// The out-of-order set is bounded (``maxAhead``): past it, the oldest gap is given up as lost,
/// so a late arrival of one of those messages counts as a duplicate. A hub that delivers in
/// order never comes near it.
struct DeliveryTracker {
    /// What one received seq meant.
    enum Outcome: Equatable {
        /// First delivery of a message published during the run.
        case new
        /// Received before.
        case duplicate
        /// A message from before the run (seq at or below the join's `last_seq`).
        case stale
    }

    static let maxAhead = 65_536

    /// The channel's `last_seq` when the subscriber joined: the bench's messages come after it.
    let base: Int64
    /// Every seq in `base + 1 ... contiguous` has been received.
    private(set) var contiguous: Int64
    private var ahead: Set<Int64> = []
    /// Distinct messages received.
    private(set) var received = 0

    init(base: Int64) {
        self.base = base
        contiguous = base
    }

    mutating func record(_ seq: Int64) -> Outcome {
        if seq <= base { return .stale }
        if seq <= contiguous { return .duplicate }
        if seq == contiguous + 1 {
            contiguous = seq
            while !ahead.isEmpty, ahead.remove(contiguous + 1) != nil { contiguous += 1 }
            received += 1
            return .new
        }
        guard ahead.insert(seq).inserted else { return .duplicate }
        received += 1
        if ahead.count > Self.maxAhead, let oldest = ahead.min() {
            // Give up on the gap below the oldest out-of-order seq. `received` stays exact:
            // the seqs skipped over were never counted.
            ahead.remove(oldest)
            contiguous = oldest
            while ahead.remove(contiguous + 1) != nil { contiguous += 1 }
        }
        return .new
    }
}
