import DugnadCore
import GRDB

extension SQLiteStore {
    /// The schema's history. A migration that has shipped is never edited: a change is a
    /// new migration registered after the others, so every existing file can follow.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-hub", migrate: createHubTables)
        migrator.registerMigration("v2-announcements", migrate: createAnnouncementTables)
        migrator.registerMigration("v3-governance", migrate: createGovernanceTables)
        migrator.registerMigration("v4-probe-room", migrate: addProbeRoom)
        migrator.registerMigration("v5-goals", migrate: createGoalTables)
        migrator.registerMigration("v6-announcement-until", migrate: addAnnouncementUntil)
        migrator.registerMigration("v7-directory", migrate: addDirectoryColumns)
        migrator.registerMigration("v8-search", migrate: createSearchIndex)
        migrator.registerMigration("v9-edits", migrate: addEditsAndMentions)
        migrator.registerMigration("v10-direct", migrate: createDirectChannels)
        migrator.registerMigration("v11-engagement-indexes", migrate: addEngagementIndexes)
        migrator.registerMigration("v12-follower", migrate: SQLiteFollower.createTables)
        migrator.registerMigration("v13-active-day-counts", migrate: SQLiteActiveDayCounts.createTables)
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

    /// Announcements with their fixed audiences and receipts, reminders, API keys, the
    /// indexes behind the engagement figures, and the time of each member's last read.
    private static func createAnnouncementTables(_ db: Database) throws {
        // audience_channels is a JSON array of channel names ('[]' for everyone).
        // audience_count is fixed with the audience, so the reach needs no count of it.
        // UNIQUE (id, require_ack) exists for the audience's composite foreign key.
        try db.execute(
            sql: """
                CREATE TABLE announcements (
                    id TEXT NOT NULL PRIMARY KEY,
                    from_id TEXT NOT NULL,
                    from_name TEXT NOT NULL,
                    title TEXT NOT NULL,
                    body TEXT NOT NULL,
                    priority TEXT NOT NULL CHECK (priority IN ('normal', 'important', 'urgent')),
                    require_ack INTEGER NOT NULL CHECK (require_ack IN (0, 1)),
                    audience_kind TEXT NOT NULL CHECK (audience_kind IN ('all', 'channels')),
                    audience_channels TEXT NOT NULL DEFAULT '[]'
                        CHECK (json_valid(audience_channels) AND json_type(audience_channels) = 'array'),
                    client_id TEXT,
                    ts INTEGER NOT NULL,
                    audience_count INTEGER NOT NULL DEFAULT 0 CHECK (audience_count >= 0),
                    UNIQUE (id, require_ack),
                    CHECK (audience_kind = 'channels' OR audience_channels = '[]')
                )
                """)
        try db.execute(
            sql: """
                CREATE UNIQUE INDEX announcements_by_sender_client_id
                ON announcements (from_id, client_id) WHERE client_id IS NOT NULL
                """)
        try db.execute(sql: "CREATE INDEX announcements_by_ts ON announcements (ts)")

        // One row per user of the audience, fixed at posting. No foreign key to users: a
        // channel member may be known only through a token not recorded yet.
        //
        // require_ack repeats the announcement's flag so that partial indexes can hold
        // just the receipts still pending; the composite foreign key makes SQLite keep
        // the copy equal to the original. An ack is also a read, hence the CHECK.
        try db.execute(
            sql: """
                CREATE TABLE announcement_audience (
                    announcement_id TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    require_ack INTEGER NOT NULL,
                    delivered_at INTEGER,
                    read_at INTEGER,
                    acked_at INTEGER,
                    last_sent_at INTEGER,
                    resend_count INTEGER NOT NULL DEFAULT 0 CHECK (resend_count >= 0),
                    reminded_count INTEGER NOT NULL DEFAULT 0 CHECK (reminded_count >= 0),
                    PRIMARY KEY (announcement_id, user_id),
                    FOREIGN KEY (announcement_id, require_ack) REFERENCES announcements (id, require_ack),
                    CHECK (acked_at IS NULL OR read_at IS NOT NULL)
                ) WITHOUT ROWID
                """)
        // The welcome and the urgent re-sends look for a user's pending receipts: a row
        // leaves these indexes as soon as it is acknowledged (or read, where no ack is
        // required), so their size follows what is pending, not the years of history.
        // resend_count in the key lets the re-sends skip the rows that reached the
        // maximum (users who never acknowledge) with a range instead of visiting them.
        try db.execute(
            sql: """
                CREATE INDEX announcement_audience_unacked ON announcement_audience (user_id, resend_count)
                WHERE require_ack = 1 AND acked_at IS NULL
                """)
        try db.execute(
            sql: """
                CREATE INDEX announcement_audience_unread ON announcement_audience (user_id)
                WHERE require_ack = 0 AND read_at IS NULL
                """)
        // Reads in order of time per announcement: the read and ack counts (an ack is a
        // read, so every ack is here) and the median time to read, from the index alone
        // and without visiting the rows of those who have not read.
        try db.execute(
            sql: """
                CREATE INDEX announcement_audience_reads
                ON announcement_audience (announcement_id, read_at, acked_at)
                WHERE read_at IS NOT NULL
                """)

        try db.execute(
            sql: """
                CREATE TABLE announcement_reminders (
                    id INTEGER PRIMARY KEY,
                    announcement_id TEXT NOT NULL REFERENCES announcements (id),
                    by_user_id TEXT NOT NULL,
                    at INTEGER NOT NULL,
                    recipients INTEGER NOT NULL CHECK (recipients >= 0)
                )
                """)
        try db.execute(
            sql: "CREATE INDEX announcement_reminders_by_announcement ON announcement_reminders (announcement_id, at)")

        // Only the SHA-256 of a key is stored. A name is unique among live keys, so that
        // a revoked key's name can be given to its replacement.
        try db.execute(
            sql: """
                CREATE TABLE api_keys (
                    id TEXT NOT NULL PRIMARY KEY,
                    name TEXT NOT NULL,
                    hash TEXT NOT NULL UNIQUE,
                    scopes TEXT NOT NULL CHECK (json_valid(scopes) AND json_type(scopes) = 'array'),
                    channels TEXT NOT NULL CHECK (json_valid(channels) AND json_type(channels) = 'array'),
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                ) WITHOUT ROWID
                """)
        try db.execute(
            sql: "CREATE UNIQUE INDEX api_keys_live_name ON api_keys (name) WHERE revoked_at IS NULL")
        try db.execute(
            sql: "CREATE INDEX api_keys_by_revoked_at ON api_keys (revoked_at) WHERE revoked_at IS NOT NULL")

        // When the member's read position last moved (by mark_read or by posting): the
        // engagement figures' active readers. NULL for rows from before this migration
        // and for members who have not read since joining.
        try db.execute(sql: "ALTER TABLE memberships ADD COLUMN read_at INTEGER")
        try db.execute(sql: "CREATE INDEX memberships_by_read_at ON memberships (read_at) WHERE read_at IS NOT NULL")

        // Messages per channel in a time window, with their posters, read from the index
        // alone: seq orders a channel's history but says nothing about time.
        try db.execute(sql: "CREATE INDEX messages_by_channel_ts ON messages (channel, ts, from_id)")

        // The UTC days (counted from 1970-01-01) on which each user had a session: daily
        // active users over a year read one row per user and day from this key, instead
        // of deduplicating millions of sessions. The triggers keep it in step with
        // sessions: a session is on its first day when it opens, and on every later day
        // at the first heartbeat (or close) of that day, since last_alive then moves
        // into a new day. Heartbeats come every few seconds, so no day of a session is
        // missed; the WHEN clause makes all the other heartbeats cost nothing here.
        try db.execute(
            sql: """
                CREATE TABLE user_active_days (
                    day INTEGER NOT NULL,
                    user_id TEXT NOT NULL,
                    PRIMARY KEY (day, user_id)
                ) WITHOUT ROWID
                """)
        try db.execute(
            sql: """
                CREATE TRIGGER sessions_mark_active_day_on_open AFTER INSERT ON sessions
                BEGIN
                    INSERT INTO user_active_days (day, user_id) VALUES (NEW.connected_at / 86400000, NEW.user_id)
                    ON CONFLICT (day, user_id) DO NOTHING;
                END
                """)
        try db.execute(
            sql: """
                CREATE TRIGGER sessions_mark_active_day_when_alive AFTER UPDATE OF last_alive ON sessions
                WHEN NEW.last_alive / 86400000 <> OLD.last_alive / 86400000
                BEGIN
                    INSERT INTO user_active_days (day, user_id) VALUES (NEW.last_alive / 86400000, NEW.user_id)
                    ON CONFLICT (day, user_id) DO NOTHING;
                END
                """)
        // Sessions recorded before this migration: every day from connection to the end
        // (or to the last time known alive, for one still open).
        try db.execute(
            sql: """
                WITH RECURSIVE spans (user_id, day, last_day) AS (
                    SELECT user_id, connected_at / 86400000, coalesce(disconnected_at, last_alive) / 86400000
                    FROM sessions
                    UNION ALL
                    SELECT user_id, day + 1, last_day FROM spans WHERE day < last_day
                )
                INSERT INTO user_active_days (day, user_id)
                SELECT day, user_id FROM spans WHERE true
                ON CONFLICT (day, user_id) DO NOTHING
                """)
    }

    /// Who may see and speak: memberships an admin granted, who created a channel (the
    /// daily quota of channels made by `join`), roles an admin gave, bans, and the audit
    /// log of admin actions.
    private static func createGovernanceTables(_ db: Database) throws {
        // NULL: the user joined; else the time an admin granted it.
        try db.execute(sql: "ALTER TABLE memberships ADD COLUMN granted_at INTEGER")
        // NULL for channels an admin created (and for those made before this migration).
        try db.execute(sql: "ALTER TABLE channels ADD COLUMN created_by TEXT")
        try db.execute(
            sql: """
                CREATE INDEX channels_by_creator ON channels (created_by, created_at)
                WHERE created_by IS NOT NULL
                """)
        // A JSON array, like roles: the roles an admin gave in the directory, added to
        // those of the user's tokens.
        try db.execute(sql: "ALTER TABLE users ADD COLUMN directory_roles TEXT NOT NULL DEFAULT '[]'")
        try db.execute(sql: "UPDATE users SET directory_roles = roles WHERE last_seen IS NULL")
        try db.execute(
            sql: """
                CREATE TABLE bans (
                    user_id TEXT NOT NULL PRIMARY KEY,
                    banned_at INTEGER NOT NULL,
                    banned_by TEXT NOT NULL,
                    reason TEXT
                ) WITHOUT ROWID
                """)
        // seq orders the log (AUTOINCREMENT: never reused, so a reader that remembers the
        // last seq it saw misses nothing); id is made by the writer before the insert.
        try db.execute(
            sql: """
                CREATE TABLE audit (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT NOT NULL,
                    detail TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail))
                )
                """)
        try db.execute(sql: "CREATE INDEX audit_by_time ON audit (at)")
        // The announcements a user received, and those a leader posted, newest first.
        try db.execute(sql: "CREATE INDEX announcement_audience_by_user ON announcement_audience (user_id, announcement_id)")
        try db.execute(sql: "CREATE INDEX announcements_by_author ON announcements (from_id, id)")
    }

    /// Room in the readiness probe's row: `checkWritable()` rewrites it with as many bytes
    /// as the largest message frame, so that a probe that fits on a nearly full disk means
    /// a publish fits too (a one-page probe fitted where a publish, which touches several
    /// pages and indexes, did not: /readyz said 200 while every publish failed).
    private static func addProbeRoom(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE store_probe ADD COLUMN room BLOB")
    }

    /// The targets admins set (`PUT /api/v1/goals`), one row per metric.
    private static func createGoalTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE goals (
                    metric TEXT NOT NULL PRIMARY KEY,
                    target REAL NOT NULL,
                    set_by TEXT NOT NULL,
                    set_at INTEGER NOT NULL
                ) WITHOUT ROWID
                """)
    }

    /// Announcements current until a time: who joins their audience meanwhile gets them.
    /// The partial index holds only those that have an `until`, so the look-up at every
    /// session's opening reads a handful of rows, not every announcement.
    private static func addAnnouncementUntil(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE announcements ADD COLUMN current_until INTEGER")
        try db.execute(
            sql: "CREATE INDEX announcements_current ON announcements (current_until) WHERE current_until IS NOT NULL")
    }

    /// Direct channels (`direct`): stored as private channels (the kind's CHECK is part of
    /// the channels table, which SQLite cannot alter in place), each named here; reads
    /// report their kind as `direct` (`channelColumns`). Only `createChannel` with
    /// `kind: .direct` writes a row, with the channel's.
    private static func createDirectChannels(_ db: Database) throws {
        try db.execute(
            sql: "CREATE TABLE direct_channels (channel TEXT NOT NULL PRIMARY KEY REFERENCES channels (name)) WITHOUT ROWID")
    }

    /// The goals' active people over eight weeks read the sessions that closed since the
    /// oldest week began, a range of this index (covering), rather than every session.
    private static func addEngagementIndexes(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE INDEX sessions_by_disconnected ON sessions (disconnected_at, connected_at, user_id)
                WHERE disconnected_at IS NOT NULL
                """)
    }

    /// The channel directory: a description, and the folded name and title its `query`
    /// is matched against (`ChannelSearchKey`: folded in Swift, since SQLite folds ASCII
    /// only), filled here for the channels that exist.
    private static func addDirectoryColumns(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE channels ADD COLUMN description TEXT")
        try db.execute(sql: "ALTER TABLE channels ADD COLUMN search_key TEXT NOT NULL DEFAULT ''")
        let channels = try Row.fetchAll(db, sql: "SELECT name, title FROM channels")
        for row in channels {
            let name: String = row["name"]
            let title: String = row["title"]
            try db.execute(
                sql: "UPDATE channels SET search_key = ? WHERE name = ?",
                arguments: [ChannelSearchKey.of(name: name, title: title), name])
        }
    }

    /// Full-text search (`search`): an FTS5 index of the messages' bodies with external
    /// content (the text stays in `messages` alone; the index holds the words), kept by
    /// triggers, so that every writer keeps it right, whoever it is: a publish, an edit
    /// (an UPDATE of `body`), a deletion (a body emptied or set NULL, or the row removed).
    /// Since `v12-follower`, new rows are indexed by `SQLiteFollower` in batches instead
    /// of the insert trigger.
    ///
    /// `unicode61` folds case by Unicode's rules ("Årsmøtet" is the word "årsmøtet");
    /// `remove_diacritics 0` keeps å, æ, ø, é as the letters they are, so that "sa" does
    /// not find "så", nor "for" "får". `prefix '2 3'` keeps an index of every word's first
    /// two and three characters, so a short prefix reads one entry instead of merging every
    /// word it begins (see docs/benchmarks.md for the size and the time).
    ///
    /// The rowid links index and row: `messages` has no INTEGER PRIMARY KEY, so a VACUUM
    /// could renumber its rowids; the hub never runs one, and docs/operations.md says to
    /// `rebuild` the index after one.
    private static func createSearchIndex(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE VIRTUAL TABLE messages_fts USING fts5 (
                    body, content = 'messages', content_rowid = 'rowid',
                    tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3'
                )
                """)
        try db.execute(
            sql: """
                CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
                BEGIN
                    INSERT INTO messages_fts (rowid, body) VALUES (NEW.rowid, NEW.body);
                END
                """)
        try db.execute(
            sql: """
                CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
                BEGIN
                    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', OLD.rowid, OLD.body);
                END
                """)
        try db.execute(
            sql: """
                CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
                BEGIN
                    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', OLD.rowid, OLD.body);
                    INSERT INTO messages_fts (rowid, body) VALUES (NEW.rowid, NEW.body);
                END
                """)
        // The messages written before this migration.
        try db.execute(sql: "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")
    }

    /// Edits, deletions and mentions. A deleted message keeps its row (seqs stay gapless)
    /// with an empty body. `changed_at_seq` is the channel's newest seq when the message
    /// was last edited or deleted: a client back with `since` has every change made at
    /// `since` or later, and the partial index holds only changed messages (with `seq`, so
    /// that a recovery's `seq <= since` is tested in the index: benchmarks.md). `mentions` is
    /// the ids the body mentions (space-separated); the `mentions` table has a row per
    /// member mentioned, read with the member's read position for the unread count.
    private static func addEditsAndMentions(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE messages ADD COLUMN edited_at INTEGER")
        try db.execute(sql: "ALTER TABLE messages ADD COLUMN deleted_at INTEGER")
        try db.execute(sql: "ALTER TABLE messages ADD COLUMN changed_at_seq INTEGER")
        try db.execute(sql: "ALTER TABLE messages ADD COLUMN mentions TEXT")
        try db.execute(sql: "ALTER TABLE messages ADD COLUMN mentions_channel BOOLEAN NOT NULL DEFAULT 0")
        try db.execute(
            sql: """
                CREATE INDEX messages_changed ON messages (channel, changed_at_seq, seq)
                WHERE changed_at_seq IS NOT NULL
                """)
        try db.execute(
            sql: """
                CREATE TABLE mentions (
                    user_id TEXT NOT NULL,
                    channel TEXT NOT NULL REFERENCES channels (name),
                    seq INTEGER NOT NULL,
                    PRIMARY KEY (user_id, channel, seq)
                ) WITHOUT ROWID
                """)
        // A deletion removes the message's rows.
        try db.execute(sql: "CREATE INDEX mentions_by_message ON mentions (channel, seq)")
    }
}
