import DugnadCore
import DugnadProtocol
import Foundation
import GRDB

extension SQLiteStore {
    public func channel(named name: String) throws -> ChannelRecord? {
        try reading("read channel '\(name)'") { db in
            try Self.fetchChannel(db, named: name)
        }
    }

    public func allChannels() throws -> [ChannelRecord] {
        try reading("read the channels") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT \(Self.channelColumns) FROM channels c ORDER BY c.name"))
                .map(Self.channelRecord)
        }
    }

    public func memberships(userID: String) throws -> [MembershipRecord] {
        try reading("read the memberships of '\(userID)'") { db in try Self.fetchMemberships(db, userID: userID) }
    }

    /// The standing, the memberships, the direct channels' members and the pending
    /// announcements in one read transaction (`SessionOpening` says why).
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
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT granted_at FROM memberships WHERE user_id = ? AND channel = ?"),
                arguments: [userID, channel]
            ).map { row in try row.decode(Int64?.self, forColumn: "granted_at") == nil ? .joined : .granted }
        }
    }

    /// An unknown channel reads as an empty history; callers check access (and with it
    /// existence) before reading.
    public func messages(channel: String, page: HistoryPage) throws -> (messages: [StoredMessage], hasMore: Bool) {
        try reading("read the history of '\(channel)'") { db in
            let sql: String
            let arguments: StatementArguments
            switch page {
            case .latest:
                sql = "SELECT \(Self.messageColumns) FROM messages WHERE channel = ? ORDER BY seq DESC LIMIT ?"
                arguments = [channel, page.fetchLimit]
            case .before(let seq, _):
                sql = """
                    SELECT \(Self.messageColumns) FROM messages
                    WHERE channel = ? AND seq < ? ORDER BY seq DESC LIMIT ?
                    """
                arguments = [channel, seq, page.fetchLimit]
            case .after(let seq, _):
                sql = """
                    SELECT \(Self.messageColumns) FROM messages
                    WHERE channel = ? AND seq > ? ORDER BY seq ASC LIMIT ?
                    """
                arguments = [channel, seq, page.fetchLimit]
            }
            let (messages, hasMore) = page.page(fromFetched: try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments))
            return (try messages.map(Self.storedMessage), hasMore)
        }
    }

    /// Through `messages_changed`: only messages ever edited or deleted are in it.
    public func changedMessages(channel: String, since: Int64, limit: Int) throws -> (
        messages: [StoredMessage], hasMore: Bool
    ) {
        try reading("read the changes of '\(channel)'") { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.messageColumns) FROM messages
                        WHERE channel = ? AND changed_at_seq >= ? AND seq <= ?
                        ORDER BY changed_at_seq, seq LIMIT ?
                        """),
                arguments: [channel, since, since, limit + 1])
            let (kept, hasMore) = rows.splittingPage(limit: limit)
            return (try kept.map(Self.storedMessage), hasMore)
        }
    }

    public func message(id: String) throws -> StoredMessage? {
        try reading("read message '\(id)'") { db in
            try Self.fetchMessage(db, id: id)
        }
    }

    /// A member without a users row (never recorded through a token or the directory)
    /// is listed with its id as its name, no roles and no last_seen.
    public func members(channel: String, afterUserID: String?, limit: Int) throws -> (
        members: [UserRecord], hasMore: Bool
    ) {
        let page = MemberPage(afterUserID: afterUserID, limit: limit)
        return try reading("read the members of '\(channel)'") { db in try Self.fetchMembers(db, channel: channel, page: page) }
    }

    public func user(id: String) throws -> UserRecord? {
        try reading("read user '\(id)'") { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT id, name, roles, last_seen FROM users WHERE id = ?"), arguments: [id]
            ).map(Self.userRecord)
        }
    }
}

// MARK: - Row decoding, shared with the writes

extension SQLiteStore {
    /// Qualified with the alias `c` so that the list also works in joins.
    /// A direct channel is stored as private and named in `direct_channels`; its kind is
    /// read as `direct` (a primary-key lookup per channel read).
    static let channelColumns = """
        c.name AS name, \
        CASE WHEN c.kind = 'private' AND EXISTS (SELECT 1 FROM direct_channels d WHERE d.channel = c.name) \
        THEN 'direct' ELSE c.kind END AS kind, c.title AS title, c.epoch AS epoch, \
        c.last_seq AS last_seq, c.created_at AS created_at, c.description AS description, \
        c.created_by AS created_by
        """
    /// The columns a publish fills.
    static let insertedMessageColumns = "id, channel, seq, from_id, from_name, body, meta, reply_to, client_id, ts"
    /// Every column a message is read with: also those an edit, a deletion and mentions fill.
    static let messageColumns = insertedMessageColumns + ", edited_at, deleted_at, mentions, mentions_channel"

    /// The caller's mentions after its read position, in a query over `memberships m`
    /// (through the primary key of `mentions`: a range of one user's rows in one channel).
    static let unreadMentionsColumn = """
        (SELECT count(*) FROM mentions mn
         WHERE mn.user_id = m.user_id AND mn.channel = m.channel AND mn.seq > m.read_seq) AS unread_mentions
        """

    static func fetchMemberships(_ db: Database, userID: String) throws -> [MembershipRecord] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT \(Self.channelColumns), m.read_seq, m.granted_at,
                        \(Self.unreadMentionsColumn)
                    FROM memberships m JOIN channels c ON c.name = m.channel
                    WHERE m.user_id = ?
                    ORDER BY c.name
                    """),
            arguments: [userID]
        ).map { row in
            MembershipRecord(
                channel: try Self.channelRecord(row),
                readSeq: try row.decode(Int64.self, forColumn: "read_seq"),
                kind: try row.decode(Int64?.self, forColumn: "granted_at") == nil ? .joined : .granted,
                unreadMentions: try row.decode(Int.self, forColumn: "unread_mentions"))
        }
    }

    static func fetchMembers(_ db: Database, channel: String, page: MemberPage) throws -> (
        members: [UserRecord], hasMore: Bool
    ) {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT m.user_id AS id, coalesce(u.name, m.user_id) AS name,
                        coalesce(u.roles, '[]') AS roles, u.last_seen AS last_seen
                    FROM memberships m LEFT JOIN users u ON u.id = m.user_id
                    WHERE m.channel = ? AND (? IS NULL OR m.user_id > ?)
                    ORDER BY m.user_id
                    LIMIT ?
                    """),
            arguments: [channel, page.afterUserID, page.afterUserID, page.fetchLimit])
        let (members, hasMore) = page.page(fromFetched: rows)
        return (try members.map(Self.userRecord), hasMore)
    }

    static func fetchChannel(_ db: Database, named name: String) throws -> ChannelRecord? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(channelColumns) FROM channels c WHERE c.name = ?"), arguments: [name]
        ).map(channelRecord)
    }

    static func fetchMessage(_ db: Database, id: String) throws -> StoredMessage? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(messageColumns) FROM messages WHERE id = ?"), arguments: [id])
            .map(storedMessage)
    }

    static func channelRecord(_ row: Row) throws -> ChannelRecord {
        let rawKind = try row.decode(String.self, forColumn: "kind")
        guard let kind = ChannelKind(rawValue: rawKind) else {
            // The CHECK constraint makes this unreachable unless the file was edited by
            // hand; refuse rather than guess a kind that would change who may post.
            throw StoreError(.unavailable, "channel has an unknown kind '\(rawKind)'")
        }
        return ChannelRecord(
            name: try row.decode(String.self, forColumn: "name"),
            kind: kind,
            title: try row.decode(String.self, forColumn: "title"),
            epoch: try row.decode(String.self, forColumn: "epoch"),
            lastSeq: try row.decode(Int64.self, forColumn: "last_seq"),
            createdAt: try row.decode(Int64.self, forColumn: "created_at"),
            description: try row.decode(String?.self, forColumn: "description"),
            createdBy: try row.decode(String?.self, forColumn: "created_by"))
    }

    static func storedMessage(_ row: Row) throws -> StoredMessage {
        StoredMessage(
            id: try row.decode(String.self, forColumn: "id"),
            channel: try row.decode(String.self, forColumn: "channel"),
            seq: try row.decode(Int64.self, forColumn: "seq"),
            fromID: try row.decode(String.self, forColumn: "from_id"),
            fromName: try row.decode(String.self, forColumn: "from_name"),
            body: try row.decode(String.self, forColumn: "body"),
            metaJSON: try row.decode(String?.self, forColumn: "meta"),
            replyTo: try row.decode(String?.self, forColumn: "reply_to"),
            clientID: try row.decode(String?.self, forColumn: "client_id"),
            ts: try row.decode(Int64.self, forColumn: "ts"),
            editedAt: try row.decode(Int64?.self, forColumn: "edited_at"),
            deleted: try row.decode(Int64?.self, forColumn: "deleted_at") != nil,
            mentions: Mentions.ids(storedText: try row.decode(String?.self, forColumn: "mentions")),
            mentionsChannel: try row.decode(Bool.self, forColumn: "mentions_channel"))
    }

    static func userRecord(_ row: Row) throws -> UserRecord {
        UserRecord(
            id: try row.decode(String.self, forColumn: "id"),
            name: try row.decode(String.self, forColumn: "name"),
            roles: try decodeRoles(try row.decode(String.self, forColumn: "roles")),
            lastSeen: try row.decode(Int64?.self, forColumn: "last_seen"))
    }

    static func encodeRoles(_ roles: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(roles), as: UTF8.self)
    }

    static func decodeRoles(_ text: String) throws -> [String] {
        do {
            return try JSONDecoder().decode([String].self, from: Data(text.utf8))
        } catch {
            throw StoreError(.unavailable, "user has unreadable roles '\(text)'")
        }
    }
}
