import DugnadCore
import Foundation
import GRDB

extension SQLiteStore {
    /// One statement: the inner query walks the FTS5 index newest first (rowid order is
    /// insertion order), joins each match to its row by rowid to apply the channel, author
    /// and time filters, and keeps the newest `candidateLimit` with their bm25 score; the
    /// outer one orders those by score (bm25 is lower for better matches), then newest
    /// first. The channels travel as one JSON array (`json_each`), whatever their number.
    /// The index is brought up to date first, so a search finds every message stored
    /// before it.
    /// The query is made of quoted terms only (`SearchTerms.fts5Query`): no user text
    /// reaches FTS5's query language.
    public func searchMessages(_ search: MessageSearch) throws -> (messages: [StoredMessage], hasMore: Bool) {
        let channels = try Self.jsonArray(search.channels)
        // The newest messages may not be indexed yet (`SQLiteFollower`).
        try followedForReading()
        return try reading("search the messages") { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Self.qualifiedMessageColumns) FROM (
                            SELECT messages_fts.rowid AS hit, bm25(messages_fts) AS score
                            FROM messages_fts JOIN messages f ON f.rowid = messages_fts.rowid
                            WHERE messages_fts MATCH ?
                                AND f.channel IN (SELECT value FROM json_each(?))
                                AND (? IS NULL OR f.from_id = ?)
                                AND (? IS NULL OR f.ts < ?)
                            ORDER BY messages_fts.rowid DESC
                            LIMIT ?
                        ) found JOIN messages m ON m.rowid = found.hit
                        ORDER BY found.score, m.ts DESC, m.id DESC
                        LIMIT ?
                        """),
                arguments: [
                    search.terms.fts5Query, channels, search.fromID, search.fromID, search.beforeTS, search.beforeTS,
                    MessageSearch.candidateLimit, search.limit + 1,
                ])
            let messages = try rows.prefix(search.limit).map(Self.storedMessage)
            return (messages, rows.count > search.limit)
        }
    }

    /// `messageColumns` of the table aliased `m` (the FTS table has a `body` of its own);
    /// derived, so that a column added to messages is read here too.
    static let qualifiedMessageColumns: String = messageColumns.split(separator: ",")
        .map { column in
            let name = column.trimmingCharacters(in: .whitespaces)
            return "m.\(name) AS \(name)" as String
        }
        .joined(separator: ", ")

    private static func jsonArray(_ names: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
    }
}
