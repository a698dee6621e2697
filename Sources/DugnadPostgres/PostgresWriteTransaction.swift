import DugnadCore
import DugnadProtocol
import PostgresNIO

/// The PostgreSQL engine's SQL for each `WriteOp`, on the writer connection inside the
/// transaction of one batch (`PostgresStore.write` runs the batch: savepoints, reruns,
/// failures). Other nodes write to the same tables at the same time, so ops that could
/// race with theirs take row locks or use ON CONFLICT rather than check first.
struct PostgresWriteTransaction: WriteTransaction {
    let db: BlockingConnection
    /// This node: sessions are tagged with it, and its heartbeat keeps them alive.
    let nodeID: String

    // MARK: - Messages

    func publish(_ new: NewMessage) throws -> WriteOutcome {
        try publishOutcome(new).get()
    }

    /// Stores one message in one statement (a reply first checks its target): the
    /// idempotency key, the seq reservation under the channel row's lock (held until
    /// commit: another node publishing to this channel waits, then takes the next seq),
    /// the insert, and the publisher's read position. A failure of the message's own
    /// making (unknown channel or reply target) is returned, with nothing changed, so that
    /// the batch can run it without a savepoint.
    func publishOutcome(_ new: NewMessage) throws -> Result<WriteOutcome, StoreError> {
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
            var message = new.stored(seq: seq)
            if new.hasMentions {
                try PostgresMentions.record(
                    in: &message, candidates: new.mentionCandidates, channelWide: new.mentionsChannel, db)
            }
            return .success(.message(message, duplicate: false))
        }
        if reserved != nil {
            // Another node stored the same (sender, client_id) after `earlier` looked (the
            // insert waited for its commit). The seq reserved here is the channel's last,
            // and its row is locked by this transaction: give it back.
            try db.query("UPDATE channels SET last_seq = last_seq - 1 WHERE name = \(new.channel)")
        } else if !repeated {
            return .failure(StoreError(.notFound, "no channel '\(new.channel)'"))
        }
        guard let clientID = new.clientID,
            let first = try PostgresStore.fetchMessage(db, fromID: new.fromID, clientID: clientID)
        else {
            throw StoreError(.conflict, "message '\(new.id)' was neither stored nor found")
        }
        return .success(.message(first, duplicate: true))
    }

    func react(messageID: String, userID: String, emoji: String, remove: Bool, at: Int64) throws -> WriteOutcome {
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
    func createChannel(name: String, kind: ChannelKind, title: String, createdAt: Int64, createdBy: String?) throws
        -> WriteOutcome
    {
        let record = ChannelRecord(
            name: name, kind: kind, title: title, epoch: Identifiers.epoch(), lastSeq: 0, createdAt: createdAt,
            createdBy: createdBy)
        let searchKey = ChannelSearchKey.of(name: name, title: title)
        let inserted = try db.execute(
            """
            INSERT INTO channels (name, kind, title, epoch, last_seq, created_at, created_by, search_key)
            VALUES (
                \(record.name), \(kind == .direct ? ChannelKind.private.rawValue : kind.rawValue), \(record.title), \(record.epoch), 0, \(record.createdAt),
                \(createdBy), \(searchKey))
            ON CONFLICT (name) DO NOTHING
            """)
        if inserted > 0 {
            if kind == .direct { _ = try db.execute("INSERT INTO direct_channels (channel) VALUES (\(name))") }
            return .channel(record, created: true)
        }
        guard let existing = try PostgresStore.fetchChannel(db, named: name) else {
            throw StoreError(.conflict, "channel '\(name)' was neither created nor found")
        }
        return .channel(existing, created: false)
    }

    func describeChannel(name: String, description: String?) throws -> WriteOutcome {
        let changed = try db.execute("UPDATE channels SET description = \(description) WHERE name = \(name)")
        guard changed > 0, let record = try PostgresStore.fetchChannel(db, named: name) else {
            throw StoreError(.notFound, "no channel '\(name)'")
        }
        return .channel(record, created: true)
    }

    func join(userID: String, channel name: String, at: Int64) throws -> WriteOutcome {
        guard let channel = try PostgresStore.fetchChannel(db, named: name) else {
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

    func forget(userID: String, channel: String) throws -> WriteOutcome {
        try db.query("DELETE FROM memberships WHERE user_id = \(userID) AND channel = \(channel)")
        return .done
    }

    func markRead(userID: String, channel name: String, seq: Int64) throws -> WriteOutcome {
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
        let readSeq = MembershipRecord.readSeq(from: current, toward: seq, lastSeq: try row.decode("last_seq"))
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

    func upsertUser(id: String, name: String, roles: [String], seenAt: Int64) throws -> WriteOutcome {
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

    func openSession(id: String, userID: String, at: Int64) throws -> WriteOutcome {
        try db.query(
            """
            INSERT INTO sessions (id, user_id, node_id, connected_at, disconnected_at, last_alive)
            VALUES (\(id), \(userID), \(nodeID), \(at), NULL, \(at))
            """)
        return .done
    }

    /// Closing a session that is unknown or already closed still records last_seen.
    func closeSession(id: String, userID: String, at: Int64) throws -> WriteOutcome {
        try db.query(
            """
            UPDATE sessions SET disconnected_at = \(at), last_alive = greatest(last_alive, \(at))
            WHERE id = \(id) AND user_id = \(userID) AND disconnected_at IS NULL
            """)
        try db.query("UPDATE users SET last_seen = greatest(coalesce(last_seen, 0), \(at)) WHERE id = \(userID)")
        return .done
    }

    /// This node and its open sessions are alive at `at`. Other nodes' sessions are theirs
    /// to keep alive.
    func heartbeat(at: Int64) throws -> WriteOutcome {
        try db.query(
            """
            UPDATE sessions SET last_alive = \(at)
            WHERE node_id = \(nodeID) AND disconnected_at IS NULL AND last_alive < \(at)
            """)
        try PostgresStore.registerNode(db, nodeID: nodeID, at: at)
        return .done
    }
}
