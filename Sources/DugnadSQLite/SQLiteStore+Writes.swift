import DugnadCore
import DugnadProtocol
import GRDB

extension SQLiteStore {
    /// Commits the batch in one transaction (one WAL append for the whole group), each op
    /// other than a publish inside its own savepoint (publishes: `SQLitePublishRun`).
    ///
    /// An op that fails for its own reasons (unknown channel, taken id) changes nothing:
    /// a publish fails before it writes, any other op rolls back its savepoint, so the
    /// seqs of the batch stay gapless.
    /// A storage failure (full disk, read-only file, I/O error) fails the whole batch
    /// instead: SQLite may already have rolled the transaction back, so no op of the
    /// batch can be reported as stored.
    public func write(_ ops: [WriteOp]) throws -> [Result<WriteOutcome, StoreError>] {
        guard !ops.isEmpty else { return [] }
        let results: [Result<WriteOutcome, StoreError>]
        do {
            results = try pool.write { db in
                var results: [Result<WriteOutcome, StoreError>] = []
                results.reserveCapacity(ops.count)
                // Savepoint statements are prepared once and reused (GRDB's `inSavepoint`
                // compiles them for every op: measurable at thousands of ops a second).
                let savepoint = try db.cachedStatement(sql: "SAVEPOINT op")
                let release = try db.cachedStatement(sql: "RELEASE SAVEPOINT op")
                let rollback = try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT op")
                var publishes = SQLitePublishRun()
                for op in ops {
                    if case .publish(let message) = op {
                        // No savepoint: a publish that fails for its own reasons has changed
                        // nothing (see `SQLitePublishRun`).
                        do {
                            results.append(.success(try publishes.publish(message, db)))
                        } catch {
                            results.append(.failure(try Self.ownFailure(error, of: op)))
                        }
                        continue
                    }
                    // Other ops may read the seqs and read positions the run has counted.
                    try publishes.finish(db)
                    try savepoint.execute()
                    do {
                        let outcome = try Self.apply(op, db)
                        try release.execute()
                        results.append(.success(outcome))
                    } catch {
                        let failure = try Self.ownFailure(error, of: op)
                        // The op's own failure: undo its changes and go on with the rest of
                        // the batch.
                        try rollback.execute()
                        try release.execute()
                        results.append(.failure(failure))
                    }
                }
                try publishes.finish(db)
                return results
            }
        } catch {
            // Thrown by an op, or by COMMIT itself: the transaction is rolled back.
            throw StoreError.unavailable(error, doing: "store a batch of \(ops.count) writes (nothing was stored)")
        }
        restartWALIfOversized()
        return results
    }

    /// `error` as the op's own failure (unknown channel, taken id…), to report and go on
    /// with the batch; rethrown when it is the storage's (full disk, I/O), which fails the
    /// whole batch.
    private static func ownFailure(_ error: any Error, of op: WriteOp) throws -> StoreError {
        let mapped = StoreError.mapping(error, doing: op.action)
        if mapped.kind == .unavailable { throw mapped }
        return mapped
    }

    private static func apply(_ op: WriteOp, _ db: Database) throws -> WriteOutcome {
        switch op {
        case .publish(let message):
            // `write` runs publishes without a savepoint; a publish alone is a run of one.
            var run = SQLitePublishRun()
            let outcome = try run.publish(message, db)
            try run.finish(db)
            return outcome
        case .createChannel(let name, let kind, let title, let createdAt):
            return try createChannel(name: name, kind: kind, title: title, createdAt: createdAt, db)
        case .join(let userID, let channel, let at):
            return try join(userID: userID, channel: channel, at: at, db)
        case .forget(let userID, let channel):
            return try forget(userID: userID, channel: channel, db)
        case .markRead(let userID, let channel, let seq):
            return try markRead(userID: userID, channel: channel, seq: seq, db)
        case .react(let messageID, let userID, let emoji, let remove, let at):
            return try react(messageID: messageID, userID: userID, emoji: emoji, remove: remove, at: at, db)
        case .upsertUser(let id, let name, let roles, let seenAt):
            return try upsertUser(id: id, name: name, roles: roles, seenAt: seenAt, db)
        case .openSession(let id, let userID, let at):
            try db.executeCached(
                sql: """
                    INSERT INTO sessions (id, user_id, connected_at, disconnected_at, last_alive)
                    VALUES (?, ?, ?, NULL, ?)
                    """,
                arguments: [id, userID, at, at])
            return .done
        case .closeSession(let id, let userID, let at):
            return try closeSession(id: id, userID: userID, at: at, db)
        case .heartbeat(let at):
            try db.executeCached(
                sql: "UPDATE sessions SET last_alive = ? WHERE disconnected_at IS NULL AND last_alive < ?",
                arguments: [at, at])
            return .done
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

    private static func react(
        messageID: String, userID: String, emoji: String, remove: Bool, at: Int64, _ db: Database
    ) throws -> WriteOutcome {
        guard
            let channel = try String.fetchOne(
                db, sql: "SELECT channel FROM messages WHERE id = ?", arguments: [messageID])
        else {
            throw StoreError(.notFound, "no message '\(messageID)'")
        }
        if remove {
            try db.executeCached(
                sql: "DELETE FROM reactions WHERE message_id = ? AND user_id = ? AND emoji = ?",
                arguments: [messageID, userID, emoji])
        } else {
            // Only the primary key conflict is ignored (not OR IGNORE, which would also
            // swallow NOT NULL and foreign key violations).
            try db.executeCached(
                sql: """
                    INSERT INTO reactions (message_id, user_id, emoji, ts) VALUES (?, ?, ?, ?)
                    ON CONFLICT (message_id, user_id, emoji) DO NOTHING
                    """,
                arguments: [messageID, userID, emoji, at])
        }
        return .reaction(
            ReactionRecord(
                messageID: messageID, channel: channel, userID: userID, emoji: emoji,
                changed: db.changesCount > 0))
    }

    // MARK: - Channels and memberships

    private static func createChannel(
        name: String, kind: ChannelKind, title: String, createdAt: Int64, _ db: Database
    ) throws -> WriteOutcome {
        if let existing = try fetchChannel(db, named: name) {
            return .channel(existing, created: false)
        }
        let record = ChannelRecord(
            name: name, kind: kind, title: title, epoch: makeEpoch(), lastSeq: 0, createdAt: createdAt)
        try db.executeCached(
            sql: """
                INSERT INTO channels (name, kind, title, epoch, last_seq, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                record.name, record.kind.rawValue, record.title, record.epoch, record.lastSeq, record.createdAt,
            ])
        return .channel(record, created: true)
    }

    private static func join(userID: String, channel name: String, at: Int64, _ db: Database) throws -> WriteOutcome {
        guard let channel = try fetchChannel(db, named: name) else {
            throw StoreError(.notFound, "no channel '\(name)'")
        }
        if let readSeq = try Int64.fetchOne(
            db, sql: "SELECT read_seq FROM memberships WHERE user_id = ? AND channel = ?",
            arguments: [userID, name])
        {
            return .membership(channel: channel, readSeq: readSeq, created: false)
        }
        // A new member has read everything before it joined: its unread count starts at 0.
        try db.executeCached(
            sql: "INSERT INTO memberships (user_id, channel, read_seq, joined_at) VALUES (?, ?, ?, ?)",
            arguments: [userID, name, channel.lastSeq, at])
        return .membership(channel: channel, readSeq: channel.lastSeq, created: true)
    }

    /// Forgetting a membership that does not exist is done already: leave with forget is
    /// safe to repeat.
    private static func forget(userID: String, channel: String, _ db: Database) throws -> WriteOutcome {
        try db.executeCached(
            sql: "DELETE FROM memberships WHERE user_id = ? AND channel = ?", arguments: [userID, channel])
        return .done
    }

    private static func markRead(userID: String, channel name: String, seq: Int64, _ db: Database) throws
        -> WriteOutcome
    {
        guard
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT m.read_seq, c.last_seq
                    FROM memberships m JOIN channels c ON c.name = m.channel
                    WHERE m.user_id = ? AND m.channel = ?
                    """,
                arguments: [userID, name])
        else {
            throw StoreError(.notFound, "'\(userID)' is not a member of '\(name)'")
        }
        let current = try row.decode(Int64.self, forColumn: "read_seq")
        let lastSeq = try row.decode(Int64.self, forColumn: "last_seq")
        // Forward only (another device may already be further), and never past the
        // newest message (a client cannot have read what does not exist).
        let readSeq = max(current, min(seq, lastSeq))
        if readSeq != current {
            // The op carries no time, so the read is stamped when it is stored (within a
            // batch interval of the client's mark_read): for the engagement figures.
            try db.executeCached(
                sql: "UPDATE memberships SET read_seq = ?, read_at = ? WHERE user_id = ? AND channel = ?",
                arguments: [readSeq, WallClock.nowMillis(), userID, name])
        }
        return .readSeq(readSeq)
    }

    // MARK: - Users and sessions

    private static func upsertUser(id: String, name: String, roles: [String], seenAt: Int64, _ db: Database)
        throws -> WriteOutcome
    {
        // The token is the authority on name and roles, so they are replaced; last_seen
        // never moves back (writes of one batch may carry out-of-order times).
        try db.executeCached(
            sql: """
                INSERT INTO users (id, name, roles, last_seen, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    name = excluded.name,
                    roles = excluded.roles,
                    last_seen = max(coalesce(last_seen, 0), excluded.last_seen)
                """,
            arguments: [id, name, try encodeRoles(roles), seenAt, seenAt])
        return .done
    }

    /// Closing a session that is unknown or already closed still records the user's
    /// last_seen: that is what the close is for, and repeating it is harmless.
    private static func closeSession(id: String, userID: String, at: Int64, _ db: Database) throws -> WriteOutcome {
        try db.executeCached(
            sql: """
                UPDATE sessions SET disconnected_at = ?, last_alive = max(last_alive, ?)
                WHERE id = ? AND user_id = ? AND disconnected_at IS NULL
                """,
            arguments: [at, at, id, userID])
        try db.executeCached(
            sql: "UPDATE users SET last_seen = max(coalesce(last_seen, 0), ?) WHERE id = ?",
            arguments: [at, userID])
        return .done
    }

    // MARK: - Epochs

    /// Lower-case Crockford base32: no i, l, o or u, so an epoch read aloud or copied by
    /// hand is not mistaken for another.
    private static let epochAlphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    /// `e_` and 10 random base32 characters (50 bits): a channel whose history starts
    /// afresh (a new database, a reset) gets an epoch no client has seen, so a client's
    /// `since` is never applied to the wrong history.
    static func makeEpoch() -> String {
        var generator = SystemRandomNumberGenerator()
        let suffix = (0..<10).map { _ in epochAlphabet.randomElement(using: &generator) ?? "0" }
        return "e_" + String(suffix)
    }
}

extension Database {
    /// Runs one statement prepared once per connection and kept in GRDB's statement cache:
    /// the write paths run the same few statements thousands of times a second, and
    /// compiling each time (with GRDB's authorizer walking every column) was most of
    /// their cost. Only for fixed SQL text: each distinct text is cached for good.
    func executeCached(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
