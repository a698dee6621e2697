import DugnadCore
import DugnadProtocol
import GRDB

extension SQLiteWriteTransaction {
    /// Returns `.count` with the number of records written. The directory is the authority
    /// on name and roles (kept as the directory's roles too, which every authentication adds
    /// to the token's); last_seen and created_at stay as the hub recorded them (a new
    /// user gets the record's lastSeen, normally nil, and the import time as created_at).
    func importUsers(_ users: [UserRecord]) throws -> WriteOutcome {
        let now = WallClock.nowMillis()
        // One cached statement for the whole list: a directory of thousands imports in one
        // savepoint without recompiling the SQL per user.
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO users (id, name, roles, directory_roles, last_seen, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    name = excluded.name, roles = excluded.roles, directory_roles = excluded.directory_roles
                """)
        for user in users {
            let roles = try SQLiteStore.encodeRoles(user.roles)
            try statement.execute(arguments: [user.id, user.name, roles, roles, user.lastSeen, now])
        }
        return .count(users.count)
    }

    /// A taken id, hash or live name fails with `.conflict` through the schema's unique
    /// constraints.
    func createAPIKey(_ key: APIKeyRecord) throws -> WriteOutcome {
        try db.execute(
            sql: """
                INSERT INTO api_keys (id, name, hash, scopes, channels, created_at, revoked_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                key.id, key.name, key.hash, try SQLiteStore.encodeJSONArray(key.scopes),
                try SQLiteStore.encodeJSONArray(key.channels),
                key.createdAt, key.revokedAt,
            ])
        return .apiKey(key)
    }

    /// The id is tried first: ids are what listings show, and a name could look like
    /// another key's id. Only a live key is revoked, so a revocation time never changes.
    func revokeAPIKey(idOrName: String, at: Int64) throws -> WriteOutcome {
        for column in ["id", "name"] {
            if let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        UPDATE api_keys SET revoked_at = ?
                        WHERE \(column) = ? AND revoked_at IS NULL
                        RETURNING \(SQLiteStore.apiKeyColumns)
                        """),
                arguments: [at, idOrName])
            {
                return .apiKey(try SQLiteStore.apiKeyRecord(row))
            }
        }
        throw StoreError(.notFound, "no live API key with id or name '\(idOrName)'")
    }
}
