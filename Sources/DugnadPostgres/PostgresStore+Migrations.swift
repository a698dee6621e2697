import DugnadCore
import PostgresNIO

extension PostgresStore {
    /// One named step of the schema's history. A migration that has shipped is never
    /// edited: a change is a new migration appended to `migrations`.
    struct Migration: Sendable {
        var name: String
        var statements: [String]
        /// Runs after the statements, in the same transaction: for values only Swift can
        /// compute (the directory's folded search keys).
        var fill: (@Sendable (BlockingConnection) throws -> Void)? = nil
    }

    /// The schema's history, in order. The names follow the SQLite store's, so the two
    /// schemas can be compared step by step.
    static let migrations: [Migration] = [
        Migration(name: "v1-hub", statements: hubTables),
        Migration(name: "v2-announcements", statements: announcementTables),
        // PostgreSQL only: the event bus between nodes (SQLite has one node, no bus).
        Migration(name: "v3-bus-spool", statements: busTables),
        // SQLite's v3-governance.
        Migration(name: "v4-governance", statements: governanceTables),
        // SQLite's v5-goals.
        Migration(name: "v5-goals", statements: goalTables),
        Migration(name: "v6-announcement-until", statements: announcementUntil),
        // SQLite's v7-directory (its v4-probe-room has no counterpart here).
        Migration(name: "v7-directory", statements: directoryColumns, fill: fillSearchKeys),
        Migration(name: "v8-search", statements: searchIndex),
        Migration(name: "v9-edits", statements: editsAndMentions),
        Migration(name: "v10-direct", statements: directChannels),
        Migration(name: "v11-engagement-indexes", statements: engagementIndexes),
    ]

    /// The goals' active people read one range of closed sessions (SQLite's v11).
    private static let engagementIndexes: [String] = [
        """
        CREATE INDEX sessions_by_disconnected ON sessions (disconnected_at, connected_at, user_id)
        WHERE disconnected_at IS NOT NULL
        """
    ]

    /// Full-text search (`search`): each message's words as a `tsvector` that PostgreSQL
    /// computes from `body` itself (a stored generated column), so every writer keeps it
    /// right, whoever it is: a publish, an edit (an UPDATE of `body`), a deletion (a body
    /// emptied or NULL has no words). A GIN index finds the words and the prefixes (`:*`).
    ///
    /// The text is lower-cased with ICU's root collation first: the database runs under
    /// the "C" locale (bytes order, as SQLite), where `to_tsvector` folds ASCII only and
    /// "Årsmøtet" would stay "Årsmøtet". Everything that is not a letter or a decimal
    /// digit (for ICU) becomes a space before the parser sees it, so that words are split
    /// as SQLite's `unicode61` splits them ("dugnad.no" is "dugnad" and "no", not one host
    /// name; "e-post" is "e" and "post"). The 'simple' configuration keeps every word as
    /// it is: no stemming, no stop words, no accents removed (å stays å, as in SQLite).
    /// Building the column rewrites the table: on a large existing history, this
    /// migration takes a while (docs/operations.md).
    private static let searchIndex: [String] = [
        """
        ALTER TABLE messages ADD COLUMN search_words tsvector GENERATED ALWAYS AS (
            to_tsvector('simple'::regconfig,
                regexp_replace(lower(body COLLATE "und-x-icu"), '[^[:alnum:]]+', ' ', 'g'))
        ) STORED
        """,
        "CREATE INDEX messages_search ON messages USING gin (search_words)",
    ]

    /// Direct channels, stored as private ones and named here, as in the SQLite store's
    /// v10-direct (one schema for both engines, although PostgreSQL could alter the CHECK).
    private static let directChannels: [String] = [
        """
        CREATE TABLE direct_channels (
            channel TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES channels (name)
        )
        """
    ]

    /// Edits, deletions and mentions (see the SQLite store's v9-edits for the reasons).
    private static let editsAndMentions: [String] = [
        "ALTER TABLE messages ADD COLUMN edited_at BIGINT",
        "ALTER TABLE messages ADD COLUMN deleted_at BIGINT",
        "ALTER TABLE messages ADD COLUMN changed_at_seq BIGINT",
        "ALTER TABLE messages ADD COLUMN mentions TEXT",
        "ALTER TABLE messages ADD COLUMN mentions_channel BOOLEAN NOT NULL DEFAULT false",
        "CREATE INDEX messages_changed ON messages (channel, changed_at_seq, seq) WHERE changed_at_seq IS NOT NULL",
        """
        CREATE TABLE mentions (
            user_id TEXT COLLATE "C" NOT NULL,
            channel TEXT COLLATE "C" NOT NULL REFERENCES channels (name),
            seq BIGINT NOT NULL,
            PRIMARY KEY (user_id, channel, seq)
        )
        """,
        "CREATE INDEX mentions_by_message ON mentions (channel, seq)",
    ]

    /// Announcements current until a time (see the SQLite store's v6-announcement-until).
    private static let announcementUntil: [String] = [
        "ALTER TABLE announcements ADD COLUMN current_until BIGINT",
        "CREATE INDEX announcements_current ON announcements (current_until) WHERE current_until IS NOT NULL",
    ]

    /// The targets admins set (`PUT /api/v1/goals`), one row per metric.
    private static let goalTables: [String] = [
        """
        CREATE TABLE goals (
            metric TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            target DOUBLE PRECISION NOT NULL,
            set_by TEXT NOT NULL,
            set_at BIGINT NOT NULL
        )
        """
    ]

    /// A channel's description and the folded name and title that the directory's `query`
    /// is matched against: folded in Swift (`ChannelSearchKey`), since `lower()` folds
    /// only ASCII under the "C" locale.
    private static let directoryColumns: [String] = [
        "ALTER TABLE channels ADD COLUMN description TEXT",
        "ALTER TABLE channels ADD COLUMN search_key TEXT NOT NULL DEFAULT ''",
    ]

    static func fillSearchKeys(_ db: BlockingConnection) throws {
        for row in try db.rows("SELECT name, title FROM channels") {
            let name: String = try row.decode("name")
            let title: String = try row.decode("title")
            let key = ChannelSearchKey.of(name: name, title: title)
            _ = try db.execute("UPDATE channels SET search_key = \(key) WHERE name = \(name)")
        }
    }

    /// Granted memberships, channel creators, the directory's roles, bans and the audit
    /// log (see the SQLite store's v3-governance for the reasons).
    private static let governanceTables: [String] = [
        "ALTER TABLE memberships ADD COLUMN granted_at BIGINT",
        "ALTER TABLE channels ADD COLUMN created_by TEXT COLLATE \"C\"",
        "CREATE INDEX channels_by_creator ON channels (created_by, created_at) WHERE created_by IS NOT NULL",
        "ALTER TABLE users ADD COLUMN directory_roles TEXT[] NOT NULL DEFAULT '{}'",
        "UPDATE users SET directory_roles = roles WHERE last_seen IS NULL",
        """
        CREATE TABLE bans (
            user_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            banned_at BIGINT NOT NULL,
            banned_by TEXT NOT NULL,
            reason TEXT
        )
        """,
        // seq is handed out before commit, so a reader may see a later seq before an earlier
        // one commits: readers also look back in time (`auditEntries(afterSeq:orSince:)`).
        """
        CREATE TABLE audit (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id TEXT COLLATE "C" NOT NULL UNIQUE,
            at BIGINT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        )
        """,
        "CREATE INDEX audit_by_time ON audit (at)",
        "CREATE INDEX announcement_audience_by_user ON announcement_audience (user_id, announcement_id)",
        "CREATE INDEX announcements_by_author ON announcements (from_id, id)",
    ]

    /// The key of the advisory lock that serialises migrations across nodes ('dugnad' and 1).
    static let migrationLockKey: Int64 = 0x6475_676E_6164_0001

    /// Runs the migrations not yet recorded in `dugnad_migrations`, in one transaction
    /// holding an advisory lock: nodes starting at once wait for each other, and the later
    /// ones find everything done. DDL is transactional in PostgreSQL, so a failing
    /// migration leaves no half-built schema.
    func runMigrations(_ db: BlockingConnection) throws {
        try inTransaction(db) {
            try db.query("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))")
            if let schema = configuration.schema {
                try db.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(Self.quotedIdentifier(schema))"))
            }
            try db.query(
                """
                CREATE TABLE IF NOT EXISTS dugnad_migrations (
                    name TEXT COLLATE "C" NOT NULL PRIMARY KEY,
                    applied_at BIGINT NOT NULL
                )
                """)
            let applied = Set(try db.column("SELECT name FROM dugnad_migrations", as: String.self))
            for migration in Self.migrations where !applied.contains(migration.name) {
                logger.info("running migration", metadata: ["migration": "\(migration.name)"])
                for statement in migration.statements {
                    try db.query(PostgresQuery(unsafeSQL: statement))
                }
                try migration.fill?(db)
                try db.query(
                    "INSERT INTO dugnad_migrations (name, applied_at) VALUES (\(migration.name), \(WallClock.nowMillis()))")
            }
        }
    }

    /// Channels, messages, memberships, reactions, users, sessions, and the nodes that
    /// share the database.
    ///
    /// As in SQLite, the invariants live in the schema: a message's (channel, seq) is
    /// unique, a (sender, client_id) idempotency key is stored once (across nodes too),
    /// memberships, messages and reactions reference rows that exist. Text keys use the
    /// "C" collation, so that they sort by bytes as SQLite's do, whatever the database's
    /// locale. Times are milliseconds since the Unix epoch in BIGINT.
    private static let hubTables: [String] = [
        // last_seq is the seq of the newest durable message; publishing reserves the next
        // one with an UPDATE in the same transaction as the insert, which holds the row's
        // lock until commit: two nodes publishing to one channel take turns, gaplessly.
        """
        CREATE TABLE channels (
            name TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('public', 'private', 'announce')),
            title TEXT NOT NULL,
            epoch TEXT NOT NULL,
            last_seq BIGINT NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
            created_at BIGINT NOT NULL
        )
        """,
        // meta is the client's JSON kept verbatim as TEXT (JSONB would reformat it).
        """
        CREATE TABLE messages (
            id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            channel TEXT COLLATE "C" NOT NULL REFERENCES channels (name),
            seq BIGINT NOT NULL CHECK (seq >= 1),
            from_id TEXT COLLATE "C" NOT NULL,
            from_name TEXT NOT NULL,
            body TEXT NOT NULL,
            meta TEXT,
            reply_to TEXT COLLATE "C" REFERENCES messages (id),
            client_id TEXT COLLATE "C",
            ts BIGINT NOT NULL,
            UNIQUE (channel, seq)
        )
        """,
        """
        CREATE UNIQUE INDEX messages_by_sender_client_id
        ON messages (from_id, client_id) WHERE client_id IS NOT NULL
        """,
        """
        CREATE TABLE memberships (
            user_id TEXT COLLATE "C" NOT NULL,
            channel TEXT COLLATE "C" NOT NULL REFERENCES channels (name),
            read_seq BIGINT NOT NULL DEFAULT 0 CHECK (read_seq >= 0),
            joined_at BIGINT NOT NULL,
            PRIMARY KEY (user_id, channel)
        )
        """,
        "CREATE INDEX memberships_by_channel ON memberships (channel, user_id)",
        """
        CREATE TABLE reactions (
            message_id TEXT COLLATE "C" NOT NULL REFERENCES messages (id),
            user_id TEXT COLLATE "C" NOT NULL,
            emoji TEXT COLLATE "C" NOT NULL,
            ts BIGINT NOT NULL,
            PRIMARY KEY (message_id, user_id, emoji)
        )
        """,
        // roles is an array of strings: role names come from tokens and may hold any
        // character, a comma included.
        """
        CREATE TABLE users (
            id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            name TEXT NOT NULL,
            roles TEXT[] NOT NULL DEFAULT '{}',
            last_seen BIGINT,
            created_at BIGINT NOT NULL
        )
        """,
        // Every node that shares the database, with the time of its latest heartbeat:
        // how other nodes tell a live node's open sessions from a dead one's.
        """
        CREATE TABLE nodes (
            id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            started_at BIGINT NOT NULL,
            last_alive BIGINT NOT NULL
        )
        """,
        // node_id is the node holding the connection. No foreign key to nodes: the row of
        // a node declared dead is deleted while its closed sessions stay for the figures.
        """
        CREATE TABLE sessions (
            id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            user_id TEXT COLLATE "C" NOT NULL,
            node_id TEXT COLLATE "C" NOT NULL,
            connected_at BIGINT NOT NULL,
            disconnected_at BIGINT,
            last_alive BIGINT NOT NULL
        )
        """,
        // Heartbeats (per node) and crash recovery touch only the open sessions.
        "CREATE INDEX sessions_open ON sessions (user_id) WHERE disconnected_at IS NULL",
        "CREATE INDEX sessions_open_by_node ON sessions (node_id) WHERE disconnected_at IS NULL",
        "CREATE INDEX sessions_by_user ON sessions (user_id, connected_at)",
        """
        CREATE TABLE store_probe (
            id BIGINT PRIMARY KEY CHECK (id = 1),
            checked_at BIGINT NOT NULL
        )
        """,
    ]

    /// Announcements with their fixed audiences and receipts, reminders, API keys, the
    /// indexes behind the engagement figures, and the daily activity rollup.
    private static let announcementTables: [String] = [
        // audience_channels is empty for everyone. UNIQUE (id, require_ack) exists for the
        // audience's composite foreign key.
        """
        CREATE TABLE announcements (
            id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            from_id TEXT COLLATE "C" NOT NULL,
            from_name TEXT NOT NULL,
            title TEXT NOT NULL,
            body TEXT NOT NULL,
            priority TEXT NOT NULL CHECK (priority IN ('normal', 'important', 'urgent')),
            require_ack BOOLEAN NOT NULL,
            audience_kind TEXT NOT NULL CHECK (audience_kind IN ('all', 'channels')),
            audience_channels TEXT[] NOT NULL DEFAULT '{}',
            client_id TEXT COLLATE "C",
            ts BIGINT NOT NULL,
            audience_count BIGINT NOT NULL DEFAULT 0 CHECK (audience_count >= 0),
            UNIQUE (id, require_ack),
            CHECK (audience_kind = 'channels' OR audience_channels = '{}')
        )
        """,
        """
        CREATE UNIQUE INDEX announcements_by_sender_client_id
        ON announcements (from_id, client_id) WHERE client_id IS NOT NULL
        """,
        "CREATE INDEX announcements_by_ts ON announcements (ts)",
        // require_ack repeats the announcement's flag for the partial indexes; the
        // composite foreign key keeps the copy equal. An ack is also a read.
        """
        CREATE TABLE announcement_audience (
            announcement_id TEXT COLLATE "C" NOT NULL,
            user_id TEXT COLLATE "C" NOT NULL,
            require_ack BOOLEAN NOT NULL,
            delivered_at BIGINT,
            read_at BIGINT,
            acked_at BIGINT,
            last_sent_at BIGINT,
            resend_count BIGINT NOT NULL DEFAULT 0 CHECK (resend_count >= 0),
            reminded_count BIGINT NOT NULL DEFAULT 0 CHECK (reminded_count >= 0),
            PRIMARY KEY (announcement_id, user_id),
            FOREIGN KEY (announcement_id, require_ack) REFERENCES announcements (id, require_ack),
            CHECK (acked_at IS NULL OR read_at IS NOT NULL)
        )
        """,
        // Pending receipts only: the welcome and the urgent re-sends.
        """
        CREATE INDEX announcement_audience_unacked ON announcement_audience (user_id, resend_count)
        WHERE require_ack AND acked_at IS NULL
        """,
        """
        CREATE INDEX announcement_audience_unread ON announcement_audience (user_id)
        WHERE NOT require_ack AND read_at IS NULL
        """,
        """
        CREATE INDEX announcement_audience_reads
        ON announcement_audience (announcement_id, read_at, acked_at)
        WHERE read_at IS NOT NULL
        """,
        """
        CREATE TABLE announcement_reminders (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            announcement_id TEXT COLLATE "C" NOT NULL REFERENCES announcements (id),
            by_user_id TEXT COLLATE "C" NOT NULL,
            at BIGINT NOT NULL,
            recipients BIGINT NOT NULL CHECK (recipients >= 0)
        )
        """,
        "CREATE INDEX announcement_reminders_by_announcement ON announcement_reminders (announcement_id, at)",
        // Only the SHA-256 of a key is stored; a name is unique among live keys.
        """
        CREATE TABLE api_keys (
            id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
            name TEXT COLLATE "C" NOT NULL,
            hash TEXT COLLATE "C" NOT NULL UNIQUE,
            scopes TEXT[] NOT NULL,
            channels TEXT[] NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        )
        """,
        "CREATE UNIQUE INDEX api_keys_live_name ON api_keys (name) WHERE revoked_at IS NULL",
        "CREATE INDEX api_keys_by_revoked_at ON api_keys (revoked_at) WHERE revoked_at IS NOT NULL",
        // When the member's read position last moved: the active readers.
        "ALTER TABLE memberships ADD COLUMN read_at BIGINT",
        "CREATE INDEX memberships_by_read_at ON memberships (read_at) WHERE read_at IS NOT NULL",
        "CREATE INDEX messages_by_channel_ts ON messages (channel, ts, from_id)",
        // The UTC days (counted from 1970-01-01) on which each user had a session, kept in
        // step with sessions by triggers, as in SQLite: a session is on its first day when
        // it opens, and on each later day at the first heartbeat (or close) of that day.
        """
        CREATE TABLE user_active_days (
            day BIGINT NOT NULL,
            user_id TEXT COLLATE "C" NOT NULL,
            PRIMARY KEY (day, user_id)
        )
        """,
        """
        CREATE FUNCTION sessions_mark_active_day() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO user_active_days (day, user_id)
            VALUES (CASE WHEN TG_OP = 'INSERT' THEN NEW.connected_at ELSE NEW.last_alive END / 86400000, NEW.user_id)
            ON CONFLICT (day, user_id) DO NOTHING;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER sessions_mark_active_day_on_open AFTER INSERT ON sessions
        FOR EACH ROW EXECUTE FUNCTION sessions_mark_active_day()
        """,
        """
        CREATE TRIGGER sessions_mark_active_day_when_alive AFTER UPDATE OF last_alive ON sessions
        FOR EACH ROW WHEN (NEW.last_alive / 86400000 <> OLD.last_alive / 86400000)
        EXECUTE FUNCTION sessions_mark_active_day()
        """,
        // Sessions recorded before this migration: every day from connection to the end
        // (or to the last time known alive, for one still open).
        """
        INSERT INTO user_active_days (day, user_id)
        SELECT DISTINCT d.day, s.user_id FROM sessions s
        CROSS JOIN LATERAL generate_series(
            s.connected_at / 86400000, coalesce(s.disconnected_at, s.last_alive) / 86400000) AS d (day)
        ON CONFLICT (day, user_id) DO NOTHING
        """,
    ]
}
