import DugnadCore
import PostgresNIO

extension PostgresStore {
    /// One statement, as in SQLite: the GIN index finds the matches, the channel, author
    /// and time filters apply, the newest `candidateLimit` are kept with their `ts_rank`,
    /// and those are ordered by rank (higher is better), then newest first. The query is
    /// made of quoted lexemes only (`SearchTerms.tsQuery`): no user text reaches
    /// `to_tsquery`'s operators.
    public func searchMessages(_ search: MessageSearch) throws -> (messages: [StoredMessage], hasMore: Bool) {
        let limit = Int64(search.limit + 1)
        let candidates = Int64(MessageSearch.candidateLimit)
        return try reading("search the messages") { db in
            let rows = try db.rows(
                """
                SELECT \(unescaped: Self.messageColumns) FROM (
                    SELECT \(unescaped: Self.messageColumns), ts_rank(m.search_words, q) AS score
                    FROM messages m, to_tsquery('simple', \(search.terms.tsQuery)) q
                    WHERE m.search_words @@ q
                        AND m.channel = ANY(\(search.channels)::text[])
                        AND (\(search.fromID)::text IS NULL OR m.from_id = \(search.fromID)::text)
                        AND (\(search.beforeTS)::bigint IS NULL OR m.ts < \(search.beforeTS)::bigint)
                    ORDER BY m.ts DESC, m.id DESC
                    LIMIT \(candidates)
                ) found
                ORDER BY score DESC, ts DESC, id DESC
                LIMIT \(limit)
                """)
            let messages = try rows.prefix(search.limit).map(Self.storedMessage)
            return (messages, rows.count > search.limit)
        }
    }
}
