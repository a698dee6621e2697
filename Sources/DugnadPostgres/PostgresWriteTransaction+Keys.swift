import DugnadCore
import Foundation
import PostgresNIO

extension PostgresWriteTransaction {
    /// Returns `.count` with the number of records given. The directory is the authority on
    /// name and roles; last_seen and created_at stay as the hub recorded them (a new user
    /// gets the record's lastSeen, normally nil, and the import time as created_at).
    ///
    /// The whole list is one statement over a JSON parameter, so a directory of thousands
    /// costs one round trip. A user listed twice ends as the SQLite store leaves it (one
    /// upsert per record): name and roles of the last record, last_seen of the first.
    func importUsers(_ users: [UserRecord]) throws -> WriteOutcome {
        guard !users.isEmpty else { return .count(0) }
        var order: [String] = []
        var merged: [String: ImportedUser] = [:]
        for user in users {
            if merged[user.id] != nil {
                merged[user.id]?.name = user.name
                merged[user.id]?.roles = user.roles
            } else {
                order.append(user.id)
                merged[user.id] = ImportedUser(id: user.id, name: user.name, roles: user.roles, lastSeen: user.lastSeen)
            }
        }
        let json = String(decoding: try JSONEncoder().encode(order.compactMap { merged[$0] }), as: UTF8.self)
        try db.query(
            """
            INSERT INTO users (id, name, roles, directory_roles, last_seen, created_at)
            SELECT u.id, u.name, r.roles, r.roles, u.last_seen, \(WallClock.nowMillis())
            FROM jsonb_to_recordset(\(json)::jsonb) AS u (id text, name text, roles jsonb, last_seen bigint),
                LATERAL (
                    SELECT ARRAY(
                        SELECT e.value FROM jsonb_array_elements_text(u.roles) WITH ORDINALITY AS e (value, position)
                        ORDER BY e.position) AS roles
                ) AS r
            ON CONFLICT (id) DO UPDATE SET
                name = excluded.name, roles = excluded.roles, directory_roles = excluded.directory_roles
            """)
        return .count(users.count)
    }

    /// A taken id, hash or live name fails with `.conflict` through the unique constraints.
    func createAPIKey(_ key: APIKeyRecord) throws -> WriteOutcome {
        try db.query(
            """
            INSERT INTO api_keys (id, name, hash, scopes, channels, created_at, revoked_at)
            VALUES (\(key.id), \(key.name), \(key.hash), \(key.scopes)::text[], \(key.channels)::text[],
                \(key.createdAt), \(key.revokedAt))
            """)
        return .apiKey(key)
    }

    /// The id is tried first: ids are what listings show, and a name could look like
    /// another key's id. Only a live key is revoked, so a revocation time never changes.
    func revokeAPIKey(idOrName: String, at: Int64) throws -> WriteOutcome {
        let byID = try db.row(
            """
            UPDATE api_keys SET revoked_at = \(at) WHERE id = \(idOrName) AND revoked_at IS NULL
            RETURNING \(unescaped: PostgresStore.apiKeyColumns)
            """)
        if let row = byID {
            return .apiKey(try PostgresStore.apiKeyRecord(row))
        }
        let byName = try db.row(
            """
            UPDATE api_keys SET revoked_at = \(at) WHERE name = \(idOrName) AND revoked_at IS NULL
            RETURNING \(unescaped: PostgresStore.apiKeyColumns)
            """)
        if let row = byName {
            return .apiKey(try PostgresStore.apiKeyRecord(row))
        }
        throw StoreError(.notFound, "no live API key with id or name '\(idOrName)'")
    }
}

/// One record of an import, as the JSON parameter carries it.
private struct ImportedUser: Encodable {
    var id: String
    var name: String
    var roles: [String]
    var lastSeen: Int64?

    enum CodingKeys: String, CodingKey {
        case id, name, roles
        case lastSeen = "last_seen"
    }
}
