import DugnadCore
import GRDB

/// The publishes of one run of consecutive publish ops in a batch, written without a
/// savepoint each and with the per-channel and per-reader rows touched once per run
/// rather than once per message.
///
/// Per message only the insert runs (plus a look-up of the replied-to message). The
/// channel's seq is read once per run and counted on here; the `channels` row and each
/// publisher's read position are written by `finish`, which the store calls before any
/// other kind of op (which may read them) and before the commit. Measured before this
/// change, a publish was five statements (a savepoint and its release, the seq update,
/// the insert, the read position), and the writer's share of a durable publish was
/// most of the hub's CPU.
///
/// No savepoint is needed because a publish that fails for its own reasons (no such
/// channel, an unknown `reply_to`, a taken id) fails before it changes anything: the
/// checks are reads, and an insert refused by a unique index changes nothing. A failure
/// of the storage itself fails the whole batch, as before.
struct SQLitePublishRun {
    /// The last seq given out per channel in this run (its `channels` row is behind).
    private var lastSeqs: [String: Int64] = [:]
    /// Each publisher's newest message per channel: its read position moves there.
    private var readPositions: [ReaderKey: (seq: Int64, ts: Int64)] = [:]

    private struct ReaderKey: Hashable {
        var userID: String
        var channel: String
    }

    var isEmpty: Bool { lastSeqs.isEmpty && readPositions.isEmpty }

    mutating func publish(_ new: NewMessage, _ db: Database) throws -> WriteOutcome {
        // The idempotency key costs nothing unless it is taken: the unique index on
        // (from_id, client_id) refuses a retry's insert, and only then is the first
        // message looked up. A retry returns the message stored the first time even if
        // it was sent to another channel or the request changed, so each refusal below
        // checks for it.
        if let replyTo = new.replyTo {
            let sameChannel =
                try Bool.fetchOne(
                    db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM messages WHERE id = ? AND channel = ?)"),
                    arguments: [replyTo, new.channel]) ?? false
            guard sameChannel else {
                if let first = try Self.firstDelivery(of: new, db) { return first }
                throw StoreError(.notFound, "reply_to '\(replyTo)' is not a message of channel '\(new.channel)'")
            }
        }

        let last: Int64
        if let counted = lastSeqs[new.channel] {
            last = counted
        } else if let stored = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT last_seq FROM channels WHERE name = ?"), arguments: [new.channel])
        {
            last = stored
        } else {
            if let first = try Self.firstDelivery(of: new, db) { return first }
            throw StoreError(.notFound, "no channel '\(new.channel)'")
        }

        var stored = new.stored(seq: last + 1)
        try db.cachedStatement(
            sql: """
                INSERT INTO messages (\(SQLiteStore.insertedMessageColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """
        ).execute(arguments: [
            stored.id, stored.channel, stored.seq, stored.fromID, stored.fromName, stored.body,
            stored.metaJSON, stored.replyTo, stored.clientID, stored.ts,
        ])
        if db.changesCount == 0 {
            // Refused by a unique index: a retry of a stored message (no seq was taken), or
            // an id taken by another message.
            guard let first = try Self.firstDelivery(of: new, db) else {
                throw StoreError(.conflict, "message id '\(new.id)' is taken")
            }
            return first
        }
        // Only now is the seq taken: a refused insert leaves no gap.
        lastSeqs[new.channel] = stored.seq
        if new.hasMentions {
            try SQLiteMentions.record(
                in: &stored, candidates: new.mentionCandidates, channelWide: new.mentionsChannel, db)
        }
        // Publishing moves the publisher's own read position (protocol, section 5).
        readPositions[ReaderKey(userID: new.fromID, channel: new.channel)] = (stored.seq, new.ts)
        return .message(stored, duplicate: false)
    }

    /// Writes what the run counted: each channel's last seq and each publisher's read
    /// position (a publisher that is not a member, a bot over HTTP, has none to move;
    /// read_at makes the publisher an active reader in the engagement figures).
    mutating func finish(_ db: Database) throws {
        guard !isEmpty else { return }
        let channel = try db.cachedStatement(sql: "UPDATE channels SET last_seq = ? WHERE name = ?")
        for (name, seq) in lastSeqs {
            try channel.execute(arguments: [seq, name])
        }
        let reader = try db.cachedStatement(
            sql: """
                UPDATE memberships SET read_seq = ?, read_at = ?
                WHERE user_id = ? AND channel = ? AND read_seq < ?
                """)
        for (key, position) in readPositions {
            try reader.execute(arguments: [position.seq, position.ts, key.userID, key.channel, position.seq])
        }
        lastSeqs.removeAll(keepingCapacity: true)
        readPositions.removeAll(keepingCapacity: true)
    }

    /// The message a publish with the same sender and `client_id` stored before, as a
    /// duplicate outcome; nil without a client id or when there is none.
    private static func firstDelivery(of new: NewMessage, _ db: Database) throws -> WriteOutcome? {
        guard let clientID = new.clientID,
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT \(SQLiteStore.messageColumns) FROM messages WHERE from_id = ? AND client_id = ?"),
                arguments: [new.fromID, clientID])
        else { return nil }
        return .message(try SQLiteStore.storedMessage(row), duplicate: true)
    }
}
