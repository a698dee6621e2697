import DugnadCore
import PostgresNIO

extension PostgresStore {
    /// The directory in one statement, as in SQLite: the member count through
    /// `memberships_by_channel`, the newest message's time at (channel, last_seq), and the
    /// query as a substring of the folded `search_key` (`strpos`, not `LIKE`: nothing to escape).
    public func channelDirectory(_ request: DirectoryPageRequest) throws -> (entries: [DirectoryEntry], hasMore: Bool) {
        let page = KeysetPage(limit: request.limit)
        return try reading("read the channel directory") { db in
            let rows = try db.rows(
                """
                SELECT \(unescaped: Self.channelColumns),
                    (SELECT count(*) FROM memberships mc WHERE mc.channel = c.name) AS member_count,
                    (SELECT ms.ts FROM messages ms WHERE ms.channel = c.name AND ms.seq = c.last_seq) AS last_activity,
                    m.user_id IS NOT NULL AS is_member, m.granted_at AS granted_at,
                    \(unescaped: Self.unreadMentionsColumn)
                FROM channels c LEFT JOIN memberships m ON m.channel = c.name AND m.user_id = \(request.userID)
                WHERE (\(request.afterName)::text IS NULL OR c.name > \(request.afterName)::text)
                    AND (\(request.folded)::text IS NULL OR strpos(c.search_key, \(request.folded)::text) > 0)
                ORDER BY c.name LIMIT \(Int64(page.fetchLimit))
                """)
            let (kept, hasMore) = page.page(fromFetched: rows)
            return (try kept.map(Self.directoryEntry), hasMore)
        }
    }

    private static func directoryEntry(_ row: PostgresRandomAccessRow) throws -> DirectoryEntry {
        let isMember: Bool = try row.decode("is_member")
        let grantedAt: Int64? = try row.decode("granted_at")
        let memberCount: Int64 = try row.decode("member_count")
        return DirectoryEntry(
            channel: try channelRecord(row), memberCount: Int(memberCount), lastActivity: try row.decode("last_activity"),
            membership: isMember ? (grantedAt != nil ? .granted : .joined) : nil,
            unreadMentions: Int(try row.decode("unread_mentions", as: Int64.self)))
    }
}
