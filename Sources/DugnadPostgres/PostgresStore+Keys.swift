import DugnadCore
import PostgresNIO

extension PostgresStore {
    /// Every user the hub knows (seen through a token or imported), ordered by id.
    public func allUsers() throws -> [UserRecord] {
        try reading("read the users") { db in
            try db.rows("SELECT id, name, roles, last_seen FROM users ORDER BY id").map(Self.userRecord)
        }
    }

    /// Revoked keys are returned too, with `revokedAt` set.
    public func apiKey(hash: String) throws -> APIKeyRecord? {
        try reading("read an API key") { db in
            try db.row("SELECT \(unescaped: Self.apiKeyColumns) FROM api_keys WHERE hash = \(hash)")
                .map(Self.apiKeyRecord)
        }
    }

    /// All keys, revoked ones included, oldest first.
    public func apiKeys() throws -> [APIKeyRecord] {
        try reading("read the API keys") { db in
            try db.rows("SELECT \(unescaped: Self.apiKeyColumns) FROM api_keys ORDER BY created_at, id")
                .map(Self.apiKeyRecord)
        }
    }

    /// Ids of keys revoked at or after `since`, in the order they were revoked.
    public func revokedAPIKeyIDs(since: Int64) throws -> [String] {
        try reading("read the revoked API keys") { db in
            try db.column("SELECT id FROM api_keys WHERE revoked_at >= \(since) ORDER BY revoked_at, id", as: String.self)
        }
    }
}

// MARK: - Row decoding

extension PostgresStore {
    static let apiKeyColumns = "id, name, hash, scopes, channels, created_at, revoked_at"

    static func apiKeyRecord(_ row: PostgresRandomAccessRow) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try row.decode("id"), name: try row.decode("name"), hash: try row.decode("hash"),
            scopes: try row.decode("scopes"), channels: try row.decode("channels"),
            createdAt: try row.decode("created_at"), revokedAt: try row.decode("revoked_at"))
    }
}
