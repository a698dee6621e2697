import GRDB

/// What follows the messages off the commit path: the search index (`messages_fts`) and
/// the engagement rollups (`channel_days`, `channel_posters`), brought up to date in
/// batches of rows by rowid, in transactions of their own.
///
/// Why: indexing each message in the publish's own transaction (a trigger) cost 45 % of a
/// one-core hub's durable publishes (docs/benchmarks.md), because FTS5 writes a segment
/// per transaction and merges them; the same rows indexed a thousand at a time cost about
/// a sixth as much per row (measured: 33 µs a row in transactions of 100, 6 µs in
/// transactions of 1,000). The rollups make a year's per-channel figures a read of a few
/// thousand rows instead of every message of the year.
///
/// `message_follower.through_rowid` says how far both reach; it moves in the same
/// transaction as what it covers, so a crash leaves them consistent and the next step
/// goes on from there. `messages` rowids only grow: the hub never deletes a message row
/// (a deletion empties its body) and never runs VACUUM (docs/operations.md).
///
/// Readers that must see everything (search, the engagement figures) call `catchUp`
/// first; between publishes the writer calls `step` (see `SQLiteStore.deferredWork`).
enum SQLiteFollower {
    /// Rows per transaction: large enough that FTS5's per-transaction cost is spread
    /// (most of the gain is reached at 1,000), small enough that a step holds the writer
    /// for a few milliseconds (≈ 7 ms on this machine), since publishes wait behind it.
    static let stepRows: Int64 = 1_024

    /// How far the follower reaches and how far the messages go.
    struct Position: Equatable {
        var through: Int64
        var newest: Int64
        var backlog: Int64 { max(newest - through, 0) }
    }

    static func position(_ db: Database) throws -> Position {
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT (SELECT through_rowid FROM message_follower WHERE id = 1) AS through,
                        (SELECT ifnull(max(rowid), 0) FROM messages) AS newest
                    """))
        return Position(through: row?["through"] ?? 0, newest: row?["newest"] ?? 0)
    }

    /// Follows at most `limit` rows past the watermark, in the caller's transaction.
    /// Returns the position after the step.
    @discardableResult
    static func step(_ db: Database, limit: Int64 = stepRows) throws -> Position {
        var position = try position(db)
        guard position.backlog > 0 else { return position }
        let upTo = min(position.newest, position.through + limit)
        let range: StatementArguments = [position.through, upTo]
        // Deleted messages (empty bodies) are indexed as nothing, as the trigger did.
        try db.executeCached(
            sql: """
                INSERT INTO messages_fts (rowid, body)
                SELECT rowid, body FROM messages WHERE rowid > ?1 AND rowid <= ?2
                """,
            arguments: range)
        try db.executeCached(
            sql: """
                INSERT INTO channel_days (channel, day, messages)
                SELECT channel, ts / 86400000, count(*) FROM messages WHERE rowid > ?1 AND rowid <= ?2
                GROUP BY channel, ts / 86400000
                ON CONFLICT (channel, day) DO UPDATE SET messages = messages + excluded.messages
                """,
            arguments: range)
        try db.executeCached(
            sql: """
                INSERT INTO channel_posters (channel, from_id, last_ts)
                SELECT channel, from_id, max(ts) FROM messages WHERE rowid > ?1 AND rowid <= ?2
                GROUP BY channel, from_id
                ON CONFLICT (channel, from_id) DO UPDATE SET last_ts = max(last_ts, excluded.last_ts)
                """,
            arguments: range)
        try db.executeCached(sql: "UPDATE message_follower SET through_rowid = ? WHERE id = 1", arguments: [upTo])
        position.through = upTo
        return position
    }

    /// Everything followed, one transaction per step so that no transaction grows with
    /// the backlog.
    static func catchUp(_ pool: DatabasePool) throws {
        while try pool.write({ try step($0) }).backlog > 0 {}
    }

    /// Migration `v12-follower`: the watermark, the two rollups filled from the messages
    /// already stored, and the search index's insert trigger replaced by the follower.
    /// Rows already indexed by the trigger are covered: the watermark starts at the
    /// newest. The edit and delete triggers stay, for the rows the follower has reached
    /// only: a row it has not reached is indexed as it is when it gets there, and FTS5
    /// must never be told to delete words it does not hold.
    static func createTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE message_follower (
                    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
                    through_rowid INTEGER NOT NULL
                );
                INSERT INTO message_follower (id, through_rowid) SELECT 1, ifnull(max(rowid), 0) FROM messages;
                DROP TRIGGER messages_fts_insert;
                DROP TRIGGER messages_fts_delete;
                DROP TRIGGER messages_fts_update;
                CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
                WHEN OLD.rowid <= (SELECT through_rowid FROM message_follower WHERE id = 1)
                BEGIN
                    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', OLD.rowid, OLD.body);
                END;
                CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
                WHEN OLD.rowid <= (SELECT through_rowid FROM message_follower WHERE id = 1)
                BEGIN
                    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', OLD.rowid, OLD.body);
                    INSERT INTO messages_fts (rowid, body) VALUES (NEW.rowid, NEW.body);
                END;
                """)
        // Messages per channel and UTC day (a year of 200 channels: 73,000 rows), and
        // each poster's newest message per channel (one row per person and channel).
        try db.execute(
            sql: """
                CREATE TABLE channel_days (
                    channel TEXT NOT NULL,
                    day INTEGER NOT NULL,
                    messages INTEGER NOT NULL,
                    PRIMARY KEY (channel, day)
                ) WITHOUT ROWID;
                CREATE TABLE channel_posters (
                    channel TEXT NOT NULL,
                    from_id TEXT NOT NULL,
                    last_ts INTEGER NOT NULL,
                    PRIMARY KEY (channel, from_id)
                ) WITHOUT ROWID;
                CREATE INDEX channel_posters_by_last_ts ON channel_posters (last_ts, channel);
                INSERT INTO channel_days (channel, day, messages)
                SELECT channel, ts / 86400000, count(*) FROM messages GROUP BY channel, ts / 86400000;
                INSERT INTO channel_posters (channel, from_id, last_ts)
                SELECT channel, from_id, max(ts) FROM messages GROUP BY channel, from_id;
                """)
    }
}
