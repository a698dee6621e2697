import DugnadCore
import DugnadProtocol
import GRDB

/// The SQLite engine's SQL for each `WriteOp`, on the writer connection inside the
/// transaction of one batch (`SQLiteStore.write` runs the batch: savepoints, failures).
///
/// Publishes go to a `SQLitePublishRun`, which counts seqs and read positions and writes
/// their rows only in `finishPublishes()`: the batch calls it before any other op (which
/// may read those rows) and before the commit.
struct SQLiteWriteTransaction: WriteTransaction {
    let db: Database
    private var publishes = SQLitePublishRun()

    init(_ db: Database) {
        self.db = db
    }

    /// Writes the rows the publishes since the last call have counted.
    mutating func finishPublishes() throws {
        try publishes.finish(db)
    }

    // MARK: - Messages

    /// Without a savepoint of its own when the batch runs it: see `SQLitePublishRun`.
    mutating func publish(_ message: NewMessage) throws -> WriteOutcome {
        try publishes.publish(message, db)
    }

    func react(messageID: String, userID: String, emoji: String, remove: Bool, at: Int64) throws -> WriteOutcome {
        guard
            let channel = try String.fetchOne(
                db.cachedStatement(sql: "SELECT channel FROM messages WHERE id = ?"), arguments: [messageID])
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

    func createChannel(name: String, kind: ChannelKind, title: String, createdAt: Int64, createdBy: String?) throws
        -> WriteOutcome
    {
        if let existing = try SQLiteStore.fetchChannel(db, named: name) {
            return .channel(existing, created: false)
        }
        let record = ChannelRecord(
            name: name, kind: kind, title: title, epoch: Identifiers.epoch(), lastSeq: 0, createdAt: createdAt,
            createdBy: createdBy)
        try db.executeCached(
            sql: """
                INSERT INTO channels (name, kind, title, epoch, last_seq, created_at, created_by, search_key)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                record.name, kind == .direct ? ChannelKind.private.rawValue : kind.rawValue, record.title, record.epoch,
                record.lastSeq, record.createdAt, createdBy, ChannelSearchKey.of(name: name, title: title),
            ])
        if kind == .direct {
            try db.executeCached(sql: "INSERT INTO direct_channels (channel) VALUES (?)", arguments: [name])
        }
        return .channel(record, created: true)
    }

    func describeChannel(name: String, description: String?) throws -> WriteOutcome {
        try db.executeCached(sql: "UPDATE channels SET description = ? WHERE name = ?", arguments: [description, name])
        guard db.changesCount > 0, let record = try SQLiteStore.fetchChannel(db, named: name) else {
            throw StoreError(.notFound, "no channel '\(name)'")
        }
        return .channel(record, created: true)
    }

    func join(userID: String, channel name: String, at: Int64) throws -> WriteOutcome {
        guard let channel = try SQLiteStore.fetchChannel(db, named: name) else {
            throw StoreError(.notFound, "no channel '\(name)'")
        }
        if let readSeq = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT read_seq FROM memberships WHERE user_id = ? AND channel = ?"),
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
    func forget(userID: String, channel: String) throws -> WriteOutcome {
        try db.executeCached(
            sql: "DELETE FROM memberships WHERE user_id = ? AND channel = ?", arguments: [userID, channel])
        return .done
    }

    func markRead(userID: String, channel name: String, seq: Int64) throws -> WriteOutcome {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT m.read_seq, c.last_seq
                        FROM memberships m JOIN channels c ON c.name = m.channel
                        WHERE m.user_id = ? AND m.channel = ?
                        """),
                arguments: [userID, name])
        else {
            throw StoreError(.notFound, "'\(userID)' is not a member of '\(name)'")
        }
        let current = try row.decode(Int64.self, forColumn: "read_seq")
        let readSeq = MembershipRecord.readSeq(
            from: current, toward: seq, lastSeq: try row.decode(Int64.self, forColumn: "last_seq"))
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

    func upsertUser(id: String, name: String, roles: [String], seenAt: Int64) throws -> WriteOutcome {
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
            arguments: [id, name, try SQLiteStore.encodeRoles(roles), seenAt, seenAt])
        return .done
    }

    func openSession(id: String, userID: String, at: Int64) throws -> WriteOutcome {
        try db.executeCached(
            sql: """
                INSERT INTO sessions (id, user_id, connected_at, disconnected_at, last_alive)
                VALUES (?, ?, ?, NULL, ?)
                """,
            arguments: [id, userID, at, at])
        return .done
    }

    /// Closing a session that is unknown or already closed still records the user's
    /// last_seen: that is what the close is for, and repeating it is harmless.
    func closeSession(id: String, userID: String, at: Int64) throws -> WriteOutcome {
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

    func heartbeat(at: Int64) throws -> WriteOutcome {
        try db.executeCached(
            sql: "UPDATE sessions SET last_alive = ? WHERE disconnected_at IS NULL AND last_alive < ?",
            arguments: [at, at])
        return .done
    }
}
