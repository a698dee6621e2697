import DugnadCore
import Foundation
import PostgresNIO

// MARK: - Writes

extension PostgresStore {
    /// Returns `.count` with the number of records given. The directory is the authority on
    /// name and roles; last_seen and created_at stay as the hub recorded them (a new user
    /// gets the record's lastSeen, normally nil, and the import time as created_at).
    ///
    /// The whole list is one statement over a JSON parameter, so a directory of thousands
    /// costs one round trip. A user listed twice ends as the SQLite store leaves it (one
    /// upsert per record): name and roles of the last record, last_seen of the first.
    func importUsers(_ users: [UserRecord], _ db: BlockingConnection) throws -> WriteOutcome {
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
            INSERT INTO users (id, name, roles, last_seen, created_at)
            SELECT u.id, u.name,
                ARRAY(SELECT r.value FROM jsonb_array_elements_text(u.roles) WITH ORDINALITY AS r (value, position)
                      ORDER BY r.position),
                u.last_seen, \(WallClock.nowMillis())
            FROM jsonb_to_recordset(\(json)::jsonb) AS u (id text, name text, roles jsonb, last_seen bigint)
            ON CONFLICT (id) DO UPDATE SET name = excluded.name, roles = excluded.roles
            """)
        return .count(users.count)
    }

    /// A taken id, hash or live name fails with `.conflict` through the unique constraints.
    func createAPIKey(_ key: APIKeyRecord, _ db: BlockingConnection) throws -> WriteOutcome {
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
    func revokeAPIKey(idOrName: String, at: Int64, _ db: BlockingConnection) throws -> WriteOutcome {
        let byID = try db.row(
            """
            UPDATE api_keys SET revoked_at = \(at) WHERE id = \(idOrName) AND revoked_at IS NULL
            RETURNING \(unescaped: Self.apiKeyColumns)
            """)
        if let row = byID {
            return .apiKey(try Self.apiKeyRecord(row))
        }
        let byName = try db.row(
            """
            UPDATE api_keys SET revoked_at = \(at) WHERE name = \(idOrName) AND revoked_at IS NULL
            RETURNING \(unescaped: Self.apiKeyColumns)
            """)
        if let row = byName {
            return .apiKey(try Self.apiKeyRecord(row))
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

// MARK: - Reads

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
