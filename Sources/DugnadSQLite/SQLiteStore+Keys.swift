import DugnadCore
import DugnadProtocol
import GRDB

// MARK: - Writes

extension SQLiteStore {
    /// Returns `.count` with the number of records written. The directory is the authority
    /// on name and roles; last_seen and created_at stay as the hub recorded them (a new
    /// user gets the record's lastSeen, normally nil, and the import time as created_at).
    static func importUsers(_ users: [UserRecord], _ db: Database) throws -> WriteOutcome {
        let now = WallClock.nowMillis()
        // One cached statement for the whole list: a directory of thousands imports in one
        // savepoint without recompiling the SQL per user.
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO users (id, name, roles, last_seen, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, roles = excluded.roles
                """)
        for user in users {
            try statement.execute(arguments: [user.id, user.name, try encodeRoles(user.roles), user.lastSeen, now])
        }
        return .count(users.count)
    }

    /// A taken id, hash or live name fails with `.conflict` through the schema's unique
    /// constraints.
    static func createAPIKey(_ key: APIKeyRecord, _ db: Database) throws -> WriteOutcome {
        try db.execute(
            sql: """
                INSERT INTO api_keys (id, name, hash, scopes, channels, created_at, revoked_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                key.id, key.name, key.hash, try encodeJSONArray(key.scopes), try encodeJSONArray(key.channels),
                key.createdAt, key.revokedAt,
            ])
        return .apiKey(key)
    }

    /// The id is tried first: ids are what listings show, and a name could look like
    /// another key's id. Only a live key is revoked, so a revocation time never changes.
    static func revokeAPIKey(idOrName: String, at: Int64, _ db: Database) throws -> WriteOutcome {
        for column in ["id", "name"] {
            if let row = try Row.fetchOne(
                db,
                sql: """
                    UPDATE api_keys SET revoked_at = ?
                    WHERE \(column) = ? AND revoked_at IS NULL
                    RETURNING \(apiKeyColumns)
                    """,
                arguments: [at, idOrName])
            {
                return .apiKey(try apiKeyRecord(row))
            }
        }
        throw StoreError(.notFound, "no live API key with id or name '\(idOrName)'")
    }
}

// MARK: - Reads

extension SQLiteStore {
    /// Every user the hub knows (seen through a token or imported), ordered by id.
    public func allUsers() throws -> [UserRecord] {
        try readingStore("read the users") { db in
            try Row.fetchAll(db, sql: "SELECT id, name, roles, last_seen FROM users ORDER BY id").map(Self.userRecord)
        }
    }

    /// Revoked keys are returned too, with `revokedAt` set: the caller tells "revoked"
    /// from "unknown".
    public func apiKey(hash: String) throws -> APIKeyRecord? {
        try readingStore("read an API key") { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.apiKeyColumns) FROM api_keys WHERE hash = ?", arguments: [hash])
                .map(Self.apiKeyRecord)
        }
    }

    /// All keys, revoked ones included, oldest first.
    public func apiKeys() throws -> [APIKeyRecord] {
        try readingStore("read the API keys") { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.apiKeyColumns) FROM api_keys ORDER BY created_at, id")
                .map(Self.apiKeyRecord)
        }
    }

    /// Ids of keys revoked at or after `since`, in the order they were revoked.
    public func revokedAPIKeyIDs(since: Int64) throws -> [String] {
        try readingStore("read the revoked API keys") { db in
            try String.fetchAll(
                db, sql: "SELECT id FROM api_keys WHERE revoked_at >= ? ORDER BY revoked_at, id", arguments: [since])
        }
    }
}

// MARK: - Row decoding

extension SQLiteStore {
    static let apiKeyColumns = "id, name, hash, scopes, channels, created_at, revoked_at"

    static func apiKeyRecord(_ row: Row) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try row.decode(String.self, forColumn: "id"),
            name: try row.decode(String.self, forColumn: "name"),
            hash: try row.decode(String.self, forColumn: "hash"),
            scopes: try decodeJSONArray(try row.decode(String.self, forColumn: "scopes")),
            channels: try decodeJSONArray(try row.decode(String.self, forColumn: "channels")),
            createdAt: try row.decode(Int64.self, forColumn: "created_at"),
            revokedAt: try row.decode(Int64?.self, forColumn: "revoked_at"))
    }
}
