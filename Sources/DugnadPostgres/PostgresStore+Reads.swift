import DugnadCore
import DugnadProtocol
import PostgresNIO

extension PostgresStore {
    public func channel(named name: String) throws -> ChannelRecord? {
        try reading("read channel '\(name)'") { db in
            try Self.fetchChannel(db, named: name)
        }
    }

    public func allChannels() throws -> [ChannelRecord] {
        try reading("read the channels") { db in
            try db.rows(PostgresQuery(unsafeSQL: "SELECT \(Self.channelColumns) FROM channels c ORDER BY c.name"))
                .map(Self.channelRecord)
        }
    }

    public func memberships(userID: String) throws -> [MembershipRecord] {
        try reading("read the memberships of '\(userID)'") { db in try Self.fetchMemberships(db, userID: userID) }
    }

    /// The standing, the memberships, the direct channels' members and the pending
    /// announcements on one read connection (`SessionOpening` says why).
    public func sessionOpening(userID: String, now: Int64) throws -> SessionOpening {
        let page = MemberPage(afterUserID: nil, limit: SessionOpening.directMembersLimit)
        return try reading("read the opening of a session of '\(userID)'") { db in
            try SessionOpening.reading(
                standing: { try Self.fetchStanding(db, userID: userID) },
                memberships: { try Self.fetchMemberships(db, userID: userID) },
                membersOf: { try Self.fetchMembers(db, channel: $0, page: page).members },
                announcements: { try Self.fetchPendingAnnouncements(db, userID: userID, now: now) })
        }
    }

    public func membershipKind(userID: String, channel: String) throws -> MembershipKind? {
        try reading("read a membership") { db in
            try db.row("SELECT granted_at FROM memberships WHERE user_id = \(userID) AND channel = \(channel)").map {
                row in try row.decode("granted_at", as: Int64?.self) == nil ? .joined : .granted
            }
        }
    }

    /// An unknown channel reads as an empty history; callers check access (and with it
    /// existence) before reading.
    public func messages(channel: String, page: HistoryPage) throws -> (messages: [StoredMessage], hasMore: Bool) {
        try reading("read the history of '\(channel)'") { db in
            let limit = Int64(page.fetchLimit)
            let query: PostgresQuery
            switch page {
            case .latest:
                query = """
                    SELECT \(unescaped: Self.messageColumns) FROM messages WHERE channel = \(channel)
                    ORDER BY seq DESC LIMIT \(limit)
                    """
            case .before(let seq, _):
                query = """
                    SELECT \(unescaped: Self.messageColumns) FROM messages
                    WHERE channel = \(channel) AND seq < \(seq) ORDER BY seq DESC LIMIT \(limit)
                    """
            case .after(let seq, _):
                query = """
                    SELECT \(unescaped: Self.messageColumns) FROM messages
                    WHERE channel = \(channel) AND seq > \(seq) ORDER BY seq ASC LIMIT \(limit)
                    """
            }
            let (messages, hasMore) = page.page(fromFetched: try db.rows(query))
            return (try messages.map(Self.storedMessage), hasMore)
        }
    }

    /// Through `messages_changed`: only messages ever edited or deleted are in it.
    public func changedMessages(channel: String, since: Int64, limit: Int) throws -> (
        messages: [StoredMessage], hasMore: Bool
    ) {
        try reading("read the changes of '\(channel)'") { db in
            let rows = try db.rows(
                """
                SELECT \(unescaped: Self.messageColumns) FROM messages
                WHERE channel = \(channel) AND changed_at_seq >= \(since) AND seq <= \(since)
                ORDER BY changed_at_seq, seq LIMIT \(Int64(limit + 1))
                """)
            let (kept, hasMore) = rows.splittingPage(limit: limit)
            return (try kept.map(Self.storedMessage), hasMore)
        }
    }

    public func message(id: String) throws -> StoredMessage? {
        try reading("read message '\(id)'") { db in
            try db.row("SELECT \(unescaped: Self.messageColumns) FROM messages WHERE id = \(id)").map(Self.storedMessage)
        }
    }

    /// A member without a users row is listed with its id as its name, no roles and no
    /// last_seen.
    public func members(channel: String, afterUserID: String?, limit: Int) throws -> (
        members: [UserRecord], hasMore: Bool
    ) {
        let page = MemberPage(afterUserID: afterUserID, limit: limit)
        return try reading("read the members of '\(channel)'") { db in try Self.fetchMembers(db, channel: channel, page: page) }
    }

    public func user(id: String) throws -> UserRecord? {
        try reading("read user '\(id)'") { db in
            try db.row("SELECT id, name, roles, last_seen FROM users WHERE id = \(id)").map(Self.userRecord)
        }
    }
}

// MARK: - Row decoding, shared with the writes

extension PostgresStore {
    /// Qualified with the alias `c` so that the list also works in joins.
    /// A direct channel is stored as private and named in `direct_channels`; its kind is
    /// read as `direct`.
    static let channelColumns = """
        c.name AS name, \
        CASE WHEN c.kind = 'private' AND EXISTS (SELECT 1 FROM direct_channels d WHERE d.channel = c.name) \
        THEN 'direct' ELSE c.kind END AS kind, c.title AS title, c.epoch AS epoch, \
        c.last_seq AS last_seq, c.created_at AS created_at, c.description AS description, \
        c.created_by AS created_by
        """
    /// Every column a message is read with (a publish fills the first ten).
    static let messageColumns = """
        id, channel, seq, from_id, from_name, body, meta, reply_to, client_id, ts, \
        edited_at, deleted_at, mentions, mentions_channel
        """

    /// The caller's mentions after its read position, in a query over `memberships m`.
    static let unreadMentionsColumn = """
        (SELECT count(*) FROM mentions mn
         WHERE mn.user_id = m.user_id AND mn.channel = m.channel AND mn.seq > m.read_seq) AS unread_mentions
        """

    static func fetchMemberships(_ db: BlockingConnection, userID: String) throws -> [MembershipRecord] {
        try db.rows(
            """
            SELECT \(unescaped: Self.channelColumns), m.read_seq, m.granted_at,
                \(unescaped: Self.unreadMentionsColumn)
            FROM memberships m JOIN channels c ON c.name = m.channel
            WHERE m.user_id = \(userID)
            ORDER BY c.name
            """
        ).map { row in
            MembershipRecord(
                channel: try Self.channelRecord(row), readSeq: try row.decode("read_seq"),
                kind: try row.decode("granted_at", as: Int64?.self) == nil ? .joined : .granted,
                unreadMentions: Int(try row.decode("unread_mentions", as: Int64.self)))
        }
    }

    static func fetchMembers(_ db: BlockingConnection, channel: String, page: MemberPage) throws -> (
        members: [UserRecord], hasMore: Bool
    ) {
        let rows = try db.rows(
            """
            SELECT m.user_id AS id, coalesce(u.name, m.user_id) AS name,
                coalesce(u.roles, '{}') AS roles, u.last_seen AS last_seen
            FROM memberships m LEFT JOIN users u ON u.id = m.user_id
            WHERE m.channel = \(channel)
                AND (\(page.afterUserID)::text IS NULL OR m.user_id > \(page.afterUserID)::text)
            ORDER BY m.user_id
            LIMIT \(Int64(page.fetchLimit))
            """)
        let (members, hasMore) = page.page(fromFetched: rows)
        return (try members.map(Self.userRecord), hasMore)
    }

    static func fetchChannel(_ db: BlockingConnection, named name: String) throws -> ChannelRecord? {
        try db.row("SELECT \(unescaped: Self.channelColumns) FROM channels c WHERE c.name = \(name)")
            .map(Self.channelRecord)
    }

    static func fetchMessage(_ db: BlockingConnection, fromID: String, clientID: String) throws -> StoredMessage? {
        try db.row(
            "SELECT \(unescaped: Self.messageColumns) FROM messages WHERE from_id = \(fromID) AND client_id = \(clientID)"
        ).map(Self.storedMessage)
    }

    static func channelRecord(_ row: PostgresRandomAccessRow) throws -> ChannelRecord {
        let rawKind: String = try row.decode("kind")
        guard let kind = ChannelKind(rawValue: rawKind) else {
            // Unreachable through the CHECK constraint; refuse rather than guess a kind
            // that would change who may post.
            throw StoreError(.unavailable, "channel has an unknown kind '\(rawKind)'")
        }
        return ChannelRecord(
            name: try row.decode("name"), kind: kind, title: try row.decode("title"), epoch: try row.decode("epoch"),
            lastSeq: try row.decode("last_seq"), createdAt: try row.decode("created_at"),
            description: try row.decode("description"), createdBy: try row.decode("created_by"))
    }

    static func storedMessage(_ row: PostgresRandomAccessRow) throws -> StoredMessage {
        StoredMessage(
            id: try row.decode("id"), channel: try row.decode("channel"), seq: try row.decode("seq"),
            fromID: try row.decode("from_id"), fromName: try row.decode("from_name"), body: try row.decode("body"),
            metaJSON: try row.decode("meta"), replyTo: try row.decode("reply_to"),
            clientID: try row.decode("client_id"), ts: try row.decode("ts"), editedAt: try row.decode("edited_at"),
            deleted: try row.decode("deleted_at", as: Int64?.self) != nil,
            mentions: Mentions.ids(storedText: try row.decode("mentions")),
            mentionsChannel: try row.decode("mentions_channel"))
    }

    static func userRecord(_ row: PostgresRandomAccessRow) throws -> UserRecord {
        UserRecord(
            id: try row.decode("id"), name: try row.decode("name"), roles: try row.decode("roles"),
            lastSeen: try row.decode("last_seen"))
    }
}
