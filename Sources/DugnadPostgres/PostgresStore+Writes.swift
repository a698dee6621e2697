import DugnadCore
import DugnadProtocol
import Foundation
import PostgresNIO

extension PostgresStore {
    /// How many times a batch runs when PostgreSQL aborts it for a deadlock or a
    /// serialization failure with another node's batch (the server picks one victim; its
    /// rerun, after a short random pause, normally goes through).
    static let maxBatchAttempts = 5

    /// Commits the batch in one transaction on the writer connection.
    ///
    /// Publishes run as one statement each and need no savepoint: every way one can fail
    /// for its own reasons (unknown channel, reply to another channel's message, a
    /// `client_id` seen before) is found before it changes anything or undone in the same
    /// statement's aftermath, so the seqs stay gapless. Any other op runs inside its own
    /// savepoint and, when it fails for its own reasons (unknown channel, taken id), rolls
    /// that back alone. Should a publish statement fail unexpectedly, the transaction is
    /// lost: the batch is rolled back and run again with a savepoint around every op. A storage
    /// failure (connection lost, server shutting down, disk full) fails the whole batch.
    /// A deadlock with another node reruns the whole batch (nothing of it was committed).
    /// A connection found dead at BEGIN is replaced once before giving up. If the
    /// connection dies during COMMIT itself, whether the batch was stored is unknown: the
    /// error says so (idempotency keys make the clients' retries safe).
    public func write(_ ops: [WriteOp]) throws -> [Result<WriteOutcome, StoreError>] {
        guard !ops.isEmpty else { return [] }
        var reconnected = false
        while true {
            do {
                return try writer.withConnection { db in
                    var attempt = 1
                    var guarded = false
                    while true {
                        do {
                            return try writeBatch(ops, guarded: guarded, db)
                        } catch let error as UnguardedPublishFailed {
                            logger.debug("batch rerun with a savepoint per op", metadata: ["error": "\(error.underlying)"])
                            try db.query("ROLLBACK")
                            guarded = true
                        } catch  where attempt < Self.maxBatchAttempts && PostgresFailure.isTransient(error) {
                            logger.debug("batch rerun after a conflict", metadata: ["error": "\(error)"])
                            try db.query("ROLLBACK")
                            // Apart, so that the two batches do not meet again at once.
                            usleep(UInt32.random(in: 5_000...20_000) * UInt32(attempt))
                            attempt += 1
                        }
                    }
                }
            } catch let error as BatchNotStarted where !reconnected && PostgresFailure.isConnectionLoss(error.underlying) {
                reconnected = true
            } catch let error as BatchNotStarted {
                throw PostgresFailure.unavailable(
                    error.underlying, doing: "store a batch of \(ops.count) writes (nothing was stored)")
            } catch let error as CommitFailed {
                throw PostgresFailure.unavailable(
                    error.underlying, doing: "commit a batch of \(ops.count) writes (it may or may not be stored)")
            } catch {
                throw PostgresFailure.unavailable(error, doing: "store a batch of \(ops.count) writes (nothing was stored)")
            }
        }
    }

    private func writeBatch(
        _ ops: [WriteOp], guarded: Bool, _ db: BlockingConnection
    ) throws -> [Result<WriteOutcome, StoreError>] {
        do {
            try db.query("BEGIN")
        } catch {
            throw BatchNotStarted(underlying: error)
        }
        // Publishing locks each channel's row until commit. A batch publishing to several
        // channels takes those locks first, in name order: two nodes' batches then queue
        // behind each other instead of deadlocking over channels taken in opposite orders.
        let channels = Set(
            ops.compactMap { op -> String? in
                guard case .publish(let message) = op else { return nil }
                return message.channel
            })
        if channels.count > 1 {
            try db.query(
                """
                SELECT name FROM channels WHERE name = ANY (\(channels.sorted())::text[])
                ORDER BY name FOR NO KEY UPDATE
                """)
        }
        var results: [Result<WriteOutcome, StoreError>] = []
        results.reserveCapacity(ops.count)
        for op in ops {
            if !guarded, case .publish(let message) = op {
                do {
                    results.append(try publishOutcome(message, db))
                } catch let error as StoreError where error.kind != .unavailable {
                    // Found before anything changed: the transaction is intact.
                    results.append(.failure(error))
                } catch {
                    if PostgresFailure.isTransient(error)
                        || PostgresFailure.storeError(error, doing: op.action).kind == .unavailable
                    {
                        throw error
                    }
                    throw UnguardedPublishFailed(underlying: error)
                }
                continue
            }
            try db.query("SAVEPOINT op")
            do {
                let outcome = try apply(op, db)
                try db.query("RELEASE SAVEPOINT op")
                results.append(.success(outcome))
            } catch let discarded as DiscardedWrites {
                try rollBackOp(db)
                results.append(.success(discarded.outcome))
            } catch {
                let mapped = PostgresFailure.storeError(error, doing: op.action)
                if mapped.kind == .unavailable {
                    // The raw error, so that the caller can tell a deadlock (rerun) from the rest.
                    throw error
                }
                try rollBackOp(db)
                results.append(.failure(mapped))
            }
        }
        do {
            try commit(db)
        } catch  where PostgresFailure.isConnectionLoss(error) {
            throw CommitFailed(underlying: error)
        }
        return results
    }

    private func rollBackOp(_ db: BlockingConnection) throws {
        try db.query("ROLLBACK TO SAVEPOINT op")
        try db.query("RELEASE SAVEPOINT op")
    }

    private func apply(_ op: WriteOp, _ db: BlockingConnection) throws -> WriteOutcome {
        switch op {
        case .publish(let message):
            return try publish(message, db)
        case .createChannel(let name, let kind, let title, let createdAt):
            return try createChannel(name: name, kind: kind, title: title, createdAt: createdAt, db)
        case .join(let userID, let channel, let at):
            return try join(userID: userID, channel: channel, at: at, db)
        case .forget(let userID, let channel):
            try db.query("DELETE FROM memberships WHERE user_id = \(userID) AND channel = \(channel)")
            return .done
        case .markRead(let userID, let channel, let seq):
            return try markRead(userID: userID, channel: channel, seq: seq, db)
        case .react(let messageID, let userID, let emoji, let remove, let at):
            return try react(messageID: messageID, userID: userID, emoji: emoji, remove: remove, at: at, db)
        case .upsertUser(let id, let name, let roles, let seenAt):
            return try upsertUser(id: id, name: name, roles: roles, seenAt: seenAt, db)
        case .openSession(let id, let userID, let at):
            try db.query(
                """
                INSERT INTO sessions (id, user_id, node_id, connected_at, disconnected_at, last_alive)
                VALUES (\(id), \(userID), \(configuration.nodeID), \(at), NULL, \(at))
                """)
            return .done
        case .closeSession(let id, let userID, let at):
            return try closeSession(id: id, userID: userID, at: at, db)
        case .heartbeat(let at):
            return try heartbeat(at: at, db)
        case .announce(let announcement):
            return try announce(announcement, db)
        case .markDelivered(let announcementID, let userIDs, let at):
            return try markDelivered(announcementID: announcementID, userIDs: userIDs, at: at, db)
        case .acknowledge(let announcementID, let userID, let kind, let at):
            return try acknowledge(announcementID: announcementID, userID: userID, kind: kind, at: at, db)
        case .remind(let announcementID, let byUserID, let at):
            return try remind(announcementID: announcementID, byUserID: byUserID, at: at, db)
        case .dueUrgentResends(let onlineUserIDs, let now, let intervalMillis, let maxResends):
            return try dueUrgentResends(
                onlineUserIDs: onlineUserIDs, now: now, intervalMillis: intervalMillis, maxResends: maxResends, db)
        case .importUsers(let users):
            return try importUsers(users, db)
        case .createAPIKey(let key):
            return try createAPIKey(key, db)
        case .revokeAPIKey(let idOrName, let at):
            return try revokeAPIKey(idOrName: idOrName, at: at, db)
        }
    }

    // MARK: - Messages

    private func publish(_ new: NewMessage, _ db: BlockingConnection) throws -> WriteOutcome {
        switch try publishOutcome(new, db) {
        case .success(let outcome): return outcome
        case .failure(let error): throw error
        }
    }

    /// Stores one message in one statement (a reply first checks its target): the
    /// idempotency key, the seq reservation under the channel row's lock (held until
    /// commit: another node publishing to this channel waits, then takes the next seq),
    /// the insert, and the publisher's read position. A failure of the message's own
    /// making (unknown channel or reply target) is returned, with nothing changed.
    private func publishOutcome(_ new: NewMessage, _ db: BlockingConnection) throws -> Result<WriteOutcome, StoreError> {
        if let replyTo = new.replyTo {
            let sameChannel =
                try db.value(
                    "SELECT EXISTS (SELECT 1 FROM messages WHERE id = \(replyTo) AND channel = \(new.channel))",
                    as: Bool.self) ?? false
            guard sameChannel else {
                return .failure(
                    StoreError(.notFound, "reply_to '\(replyTo)' is not a message of channel '\(new.channel)'"))
            }
        }
        // The idempotency key is checked first (`earlier`), so that a retry returns the
        // message stored the first time even if it was sent to another channel or the
        // request changed; then nothing is reserved or inserted.
        guard
            let row = try db.row(
                """
                WITH earlier AS (
                    SELECT id FROM messages
                    WHERE \(new.clientID)::text IS NOT NULL AND from_id = \(new.fromID) AND client_id = \(new.clientID)
                ),
                reserved AS (
                    UPDATE channels SET last_seq = last_seq + 1
                    WHERE name = \(new.channel) AND NOT EXISTS (SELECT 1 FROM earlier)
                    RETURNING last_seq
                ),
                inserted AS (
                    INSERT INTO messages (id, channel, seq, from_id, from_name, body, meta, reply_to, client_id, ts)
                    SELECT \(new.id), \(new.channel), last_seq, \(new.fromID), \(new.fromName), \(new.body),
                        \(new.metaJSON), \(new.replyTo), \(new.clientID), \(new.ts)
                    FROM reserved
                    ON CONFLICT (from_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
                    RETURNING seq
                ),
                moved AS (
                    -- Publishing moves the publisher's own read position; read_at makes the
                    -- publisher an active reader in the engagement figures.
                    UPDATE memberships SET read_seq = inserted.seq, read_at = \(new.ts)
                    FROM inserted
                    WHERE user_id = \(new.fromID) AND channel = \(new.channel) AND read_seq < inserted.seq
                )
                SELECT (SELECT last_seq FROM reserved) AS reserved, (SELECT seq FROM inserted) AS stored,
                    EXISTS (SELECT 1 FROM earlier) AS repeated
                """)
        else {
            throw StoreError(.unavailable, "a publish statement returned no row")
        }
        let reserved: Int64? = try row.decode("reserved")
        let stored: Int64? = try row.decode("stored")
        let repeated: Bool = try row.decode("repeated")
        if let seq = stored {
            return .success(
                .message(
                    StoredMessage(
                        id: new.id, channel: new.channel, seq: seq, fromID: new.fromID, fromName: new.fromName,
                        body: new.body, metaJSON: new.metaJSON, replyTo: new.replyTo, clientID: new.clientID,
                        ts: new.ts),
                    duplicate: false))
        }
        if reserved != nil {
            // Another node stored the same (sender, client_id) after `earlier` looked (the
            // insert waited for its commit). The seq reserved here is the channel's last,
            // and its row is locked by this transaction: give it back.
            try db.query("UPDATE channels SET last_seq = last_seq - 1 WHERE name = \(new.channel)")
        } else if !repeated {
            return .failure(StoreError(.notFound, "no channel '\(new.channel)'"))
        }
        guard let clientID = new.clientID, let first = try fetchMessage(db, fromID: new.fromID, clientID: clientID) else {
            throw StoreError(.conflict, "message '\(new.id)' was neither stored nor found")
        }
        return .success(.message(first, duplicate: true))
    }

    private func react(
        messageID: String, userID: String, emoji: String, remove: Bool, at: Int64, _ db: BlockingConnection
    ) throws -> WriteOutcome {
        guard let channel = try db.value("SELECT channel FROM messages WHERE id = \(messageID)", as: String.self) else {
            throw StoreError(.notFound, "no message '\(messageID)'")
        }
        let changed: Int
        if remove {
            changed = try db.execute(
                "DELETE FROM reactions WHERE message_id = \(messageID) AND user_id = \(userID) AND emoji = \(emoji)")
        } else {
            changed = try db.execute(
                """
                INSERT INTO reactions (message_id, user_id, emoji, ts) VALUES (\(messageID), \(userID), \(emoji), \(at))
                ON CONFLICT (message_id, user_id, emoji) DO NOTHING
                """)
        }
        return .reaction(
            ReactionRecord(messageID: messageID, channel: channel, userID: userID, emoji: emoji, changed: changed > 0))
    }

    // MARK: - Channels and memberships

    /// ON CONFLICT rather than a check first: two nodes creating the same channel at once
    /// both succeed, and the second gets the first one's record (created: false).
    private func createChannel(
        name: String, kind: ChannelKind, title: String, createdAt: Int64, _ db: BlockingConnection
    ) throws -> WriteOutcome {
        let record = ChannelRecord(
            name: name, kind: kind, title: title, epoch: Identifiers.epoch(), lastSeq: 0, createdAt: createdAt)
        let inserted = try db.execute(
            """
            INSERT INTO channels (name, kind, title, epoch, last_seq, created_at)
            VALUES (\(record.name), \(record.kind.rawValue), \(record.title), \(record.epoch), 0, \(record.createdAt))
            ON CONFLICT (name) DO NOTHING
            """)
        if inserted > 0 {
            return .channel(record, created: true)
        }
        guard let existing = try fetchChannel(db, named: name) else {
            throw StoreError(.conflict, "channel '\(name)' was neither created nor found")
        }
        return .channel(existing, created: false)
    }

    private func join(userID: String, channel name: String, at: Int64, _ db: BlockingConnection) throws
        -> WriteOutcome
    {
        guard let channel = try fetchChannel(db, named: name) else {
            throw StoreError(.notFound, "no channel '\(name)'")
        }
        // A new member has read everything before it joined: its unread count starts at 0.
        let inserted = try db.execute(
            """
            INSERT INTO memberships (user_id, channel, read_seq, joined_at)
            VALUES (\(userID), \(name), \(channel.lastSeq), \(at))
            ON CONFLICT (user_id, channel) DO NOTHING
            """)
        if inserted > 0 {
            return .membership(channel: channel, readSeq: channel.lastSeq, created: true)
        }
        guard
            let readSeq = try db.value(
                "SELECT read_seq FROM memberships WHERE user_id = \(userID) AND channel = \(name)", as: Int64.self)
        else {
            throw StoreError(.conflict, "the membership of '\(userID)' in '\(name)' changed meanwhile")
        }
        return .membership(channel: channel, readSeq: readSeq, created: false)
    }

    private func markRead(userID: String, channel name: String, seq: Int64, _ db: BlockingConnection) throws
        -> WriteOutcome
    {
        // FOR UPDATE: another node's mark_read of the same membership waits, so "forward
        // only" holds across nodes.
        guard
            let row = try db.row(
                """
                SELECT m.read_seq, c.last_seq
                FROM memberships m JOIN channels c ON c.name = m.channel
                WHERE m.user_id = \(userID) AND m.channel = \(name)
                FOR UPDATE OF m
                """)
        else {
            throw StoreError(.notFound, "'\(userID)' is not a member of '\(name)'")
        }
        let current: Int64 = try row.decode("read_seq")
        let lastSeq: Int64 = try row.decode("last_seq")
        // Forward only, and never past the newest message.
        let readSeq = max(current, min(seq, lastSeq))
        if readSeq != current {
            // The op carries no time: the read is stamped when it is stored.
            try db.query(
                """
                UPDATE memberships SET read_seq = \(readSeq), read_at = \(WallClock.nowMillis())
                WHERE user_id = \(userID) AND channel = \(name)
                """)
        }
        return .readSeq(readSeq)
    }

    // MARK: - Users and sessions

    private func upsertUser(id: String, name: String, roles: [String], seenAt: Int64, _ db: BlockingConnection)
        throws -> WriteOutcome
    {
        // The token is the authority on name and roles; last_seen never moves back.
        try db.query(
            """
            INSERT INTO users (id, name, roles, last_seen, created_at) VALUES (\(id), \(name), \(roles), \(seenAt), \(seenAt))
            ON CONFLICT (id) DO UPDATE SET
                name = excluded.name,
                roles = excluded.roles,
                last_seen = greatest(coalesce(users.last_seen, 0), excluded.last_seen)
            """)
        return .done
    }

    /// Closing a session that is unknown or already closed still records last_seen.
    private func closeSession(id: String, userID: String, at: Int64, _ db: BlockingConnection) throws -> WriteOutcome {
        try db.query(
            """
            UPDATE sessions SET disconnected_at = \(at), last_alive = greatest(last_alive, \(at))
            WHERE id = \(id) AND user_id = \(userID) AND disconnected_at IS NULL
            """)
        try db.query("UPDATE users SET last_seen = greatest(coalesce(last_seen, 0), \(at)) WHERE id = \(userID)")
        return .done
    }
}

/// An op's outcome whose writes must not stay: a duplicate found after the op had
/// reserved a seq. The savepoint is rolled back and the outcome reported as a success.
struct DiscardedWrites: Error {
    var outcome: WriteOutcome
}

/// BEGIN failed: nothing of the batch reached the server.
private struct BatchNotStarted: Error {
    var underlying: any Error
}

/// A publish statement failed without a savepoint, so the transaction is aborted: the
/// batch runs again with a savepoint around every op.
private struct UnguardedPublishFailed: Error {
    var underlying: any Error
}

/// The connection was lost while committing: the batch may or may not be stored.
private struct CommitFailed: Error {
    var underlying: any Error
}
