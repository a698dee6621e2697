/// Where a node stands in the audit log, which it reads to apply admin actions made on
/// other nodes or by the CLI (`Hub.followAudit`). Pure, so its bookkeeping is tested
/// without storage.
///
/// PostgreSQL hands out an entry's seq before its transaction commits, so an entry may
/// become visible after one with a higher seq was read. The follower therefore also reads
/// back `lookBackMillis` in time, and skips what it applied already (the entries this node
/// wrote itself are noted as applied when written).
struct AuditFollower: Sendable {
    /// The highest seq read so far.
    private(set) var lastSeq: Int64
    /// The log's end when this node started: what is at or before it was decided before
    /// the node served anyone, and is never applied (a ban lifted since, read again,
    /// would close a user who is welcome).
    let startSeq: Int64
    /// Applied entry ids with their time, kept for the look-back window.
    private var applied: [String: Int64] = [:]
    let lookBackMillis: Int64

    init(lastSeq: Int64, lookBackMillis: Int64 = 30_000) {
        self.lastSeq = lastSeq
        self.startSeq = lastSeq
        self.lookBackMillis = lookBackMillis
    }

    /// Reads start at entries after `lastSeq`, and at every entry since this time.
    func since(now: Int64) -> Int64 { now - lookBackMillis }

    /// An entry this node applied itself (it wrote it): not to be applied again.
    mutating func noteApplied(_ entry: AuditEntry) {
        applied[entry.id] = entry.at
    }

    /// From what a read returned: the entries to apply now, in seq order, each once.
    mutating func take(_ entries: [AuditEntry], now: Int64) -> [AuditEntry] {
        var fresh: [AuditEntry] = []
        for entry in entries.sorted(by: { $0.seq < $1.seq }) {
            lastSeq = max(lastSeq, entry.seq)
            guard entry.seq > startSeq, applied[entry.id] == nil else { continue }
            applied[entry.id] = entry.at
            fresh.append(entry)
        }
        // What is older than the window cannot be read again (it is behind `lastSeq` and
        // before `since`): its id need not be kept.
        let horizon = since(now: now) - lookBackMillis
        applied = applied.filter { $0.value >= horizon }
        return fresh
    }

    var appliedCount: Int { applied.count }
}
