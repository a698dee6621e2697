import DugnadCore
import GRDB

extension SQLiteStore {
    /// The directory in one statement: the member count through `memberships_by_channel`
    /// and the newest message's time through `UNIQUE (channel, seq)` (at `last_seq`), so a
    /// page costs a lookup per channel rather than a scan of its history. The query is a
    /// substring test on the folded `search_key` (`instr`, not `LIKE`: nothing to escape).
    public func channelDirectory(_ request: DirectoryPageRequest) throws -> (entries: [DirectoryEntry], hasMore: Bool) {
        let page = KeysetPage(limit: request.limit)
        return try reading("read the channel directory") { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.channelColumns),
                            (SELECT count(*) FROM memberships mc WHERE mc.channel = c.name) AS member_count,
                            (SELECT ms.ts FROM messages ms WHERE ms.channel = c.name AND ms.seq = c.last_seq)
                                AS last_activity,
                            m.user_id IS NOT NULL AS is_member, m.granted_at AS granted_at,
                            \(Self.unreadMentionsColumn)
                        FROM channels c LEFT JOIN memberships m ON m.channel = c.name AND m.user_id = ?
                        WHERE (? IS NULL OR c.name > ?) AND (? IS NULL OR instr(c.search_key, ?) > 0)
                        ORDER BY c.name LIMIT ?
                        """),
                arguments: [
                    request.userID, request.afterName, request.afterName, request.folded, request.folded, page.fetchLimit,
                ])
            let (kept, hasMore) = page.page(fromFetched: rows)
            return (try kept.map(Self.directoryEntry), hasMore)
        }
    }

    private static func directoryEntry(_ row: Row) throws -> DirectoryEntry {
        let isMember = try row.decode(Bool.self, forColumn: "is_member")
        let granted = try row.decode(Int64?.self, forColumn: "granted_at") != nil
        return DirectoryEntry(
            channel: try channelRecord(row),
            memberCount: try row.decode(Int.self, forColumn: "member_count"),
            lastActivity: try row.decode(Int64?.self, forColumn: "last_activity"),
            membership: isMember ? (granted ? .granted : .joined) : nil,
            unreadMentions: try row.decode(Int.self, forColumn: "unread_mentions"))
    }
}
