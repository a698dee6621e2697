import GRDB

extension SQLiteStore {
    /// The schema's history. A migration that has shipped is never edited: a change is a
    /// new migration registered after the others, so every existing file can follow.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-hub", migrate: createHubTables)
        return migrator
    }

    /// Channels, messages, memberships, reactions, users and sessions.
    ///
    /// Invariants live in the schema so that no code path can break them: a message's
    /// (channel, seq) is unique, a (sender, client_id) idempotency key is stored once,
    /// memberships, messages and reactions reference rows that exist.
    private static func createHubTables(_ db: Database) throws {
        // last_seq is the seq of the newest durable message; publishing reserves the
        // next one with an UPDATE in the same transaction as the insert (gapless).
        try db.execute(
            sql: """
                CREATE TABLE channels (
                    name TEXT NOT NULL PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('public', 'private', 'announce')),
                    title TEXT NOT NULL,
                    epoch TEXT NOT NULL,
                    last_seq INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
                    created_at INTEGER NOT NULL
                ) WITHOUT ROWID
                """)

        // UNIQUE (channel, seq) doubles as the index for history paging. The partial
        // unique index makes a client_id an idempotency key per sender, without
        // constraining the many messages sent without one.
        try db.execute(
            sql: """
                CREATE TABLE messages (
                    id TEXT NOT NULL PRIMARY KEY,
                    channel TEXT NOT NULL REFERENCES channels (name),
                    seq INTEGER NOT NULL CHECK (seq >= 1),
                    from_id TEXT NOT NULL,
                    from_name TEXT NOT NULL,
                    body TEXT NOT NULL,
                    meta TEXT,
                    reply_to TEXT REFERENCES messages (id),
                    client_id TEXT,
                    ts INTEGER NOT NULL,
                    UNIQUE (channel, seq)
                )
                """)
        try db.execute(
            sql: """
                CREATE UNIQUE INDEX messages_by_sender_client_id
                ON messages (from_id, client_id) WHERE client_id IS NOT NULL
                """)

        // No foreign key to users: a member may be known only through a token that has
        // not been recorded yet; `members` then shows the id as the name.
        try db.execute(
            sql: """
                CREATE TABLE memberships (
                    user_id TEXT NOT NULL,
                    channel TEXT NOT NULL REFERENCES channels (name),
                    read_seq INTEGER NOT NULL DEFAULT 0 CHECK (read_seq >= 0),
                    joined_at INTEGER NOT NULL,
                    PRIMARY KEY (user_id, channel)
                ) WITHOUT ROWID
                """)
        // The primary key serves "channels of a user"; this one serves "members of a
        // channel", paged by user id.
        try db.execute(
            sql: "CREATE INDEX memberships_by_channel ON memberships (channel, user_id)")

        try db.execute(
            sql: """
                CREATE TABLE reactions (
                    message_id TEXT NOT NULL REFERENCES messages (id),
                    user_id TEXT NOT NULL,
                    emoji TEXT NOT NULL,
                    ts INTEGER NOT NULL,
                    PRIMARY KEY (message_id, user_id, emoji)
                ) WITHOUT ROWID
                """)

        // roles is a JSON array of strings: role names come from tokens and may hold
        // any character, a comma included.
        try db.execute(
            sql: """
                CREATE TABLE users (
                    id TEXT NOT NULL PRIMARY KEY,
                    name TEXT NOT NULL,
                    roles TEXT NOT NULL DEFAULT '[]',
                    last_seen INTEGER,
                    created_at INTEGER NOT NULL
                ) WITHOUT ROWID
                """)

        // disconnected_at stays NULL while the connection lives; last_alive is moved by
        // heartbeats so that a crash loses at most one heartbeat interval.
        try db.execute(
            sql: """
                CREATE TABLE sessions (
                    id TEXT NOT NULL PRIMARY KEY,
                    user_id TEXT NOT NULL,
                    connected_at INTEGER NOT NULL,
                    disconnected_at INTEGER,
                    last_alive INTEGER NOT NULL
                )
                """)
        // Heartbeats and crash recovery touch only the open sessions; the closed ones
        // accumulate for the engagement figures and must not be scanned.
        try db.execute(
            sql: """
                CREATE INDEX sessions_open ON sessions (user_id)
                WHERE disconnected_at IS NULL
                """)
        try db.execute(sql: "CREATE INDEX sessions_by_user ON sessions (user_id, connected_at)")

        // One row, rewritten by `checkWritable()`: a real commit tells whether the disk
        // takes writes.
        try db.execute(
            sql: """
                CREATE TABLE store_probe (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    checked_at INTEGER NOT NULL
                )
                """)
    }
}
