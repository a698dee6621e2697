import DugnadCore
import DugnadProtocol
import GRDB

extension SQLiteStore {
    /// Every user the hub knows (seen through a token or imported), ordered by id.
    public func allUsers() throws -> [UserRecord] {
        try reading("read the users") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT id, name, roles, last_seen FROM users ORDER BY id")).map(
                Self.userRecord)
        }
    }

    /// Revoked keys are returned too, with `revokedAt` set: the caller tells "revoked"
    /// from "unknown".
    public func apiKey(hash: String) throws -> APIKeyRecord? {
        try reading("read an API key") { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Self.apiKeyColumns) FROM api_keys WHERE hash = ?"), arguments: [hash]
            )
            .map(Self.apiKeyRecord)
        }
    }

    /// All keys, revoked ones included, oldest first.
    public func apiKeys() throws -> [APIKeyRecord] {
        try reading("read the API keys") { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT \(Self.apiKeyColumns) FROM api_keys ORDER BY created_at, id"))
                .map(Self.apiKeyRecord)
        }
    }

    /// Ids of keys revoked at or after `since`, in the order they were revoked.
    public func revokedAPIKeyIDs(since: Int64) throws -> [String] {
        try reading("read the revoked API keys") { db in
            try String.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM api_keys WHERE revoked_at >= ? ORDER BY revoked_at, id"),
                arguments: [since])
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
