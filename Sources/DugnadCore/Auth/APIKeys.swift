import Crypto
import DugnadProtocol

/// API keys for bots: `dgn_` followed by 40 random base32 characters (200 bits). Only the
/// SHA-256 of a key is stored; the plain key is shown once, at creation. Lookups compare
/// hashes, so a key is never compared in plain text.
public enum APIKeys {
    public static let prefix = "dgn_"
    public static let scopes: Set<String> = ["publish", "announce", "read", "admin"]

    /// A new key and its record (not yet stored).
    public static func make(name: String, scopes: [String], channels: [String], now: Int64) -> (key: String, record: APIKeyRecord)
    {
        let key = prefix + Identifiers.random(count: 40)
        let record = APIKeyRecord(
            id: "k_" + Identifiers.random(count: 12), name: name, hash: hash(key), scopes: scopes.sorted(),
            channels: channels.sorted(), createdAt: now, revokedAt: nil)
        return (key, record)
    }

    /// Lowercase hex SHA-256.
    public static func hash(_ key: String) -> String {
        SHA256.hash(data: Array(key.utf8)).map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xf)]], as: UTF8.self)
        }.joined()
    }

    public static func isAPIKey(_ token: String) -> Bool { token.hasPrefix(prefix) }

    /// Every bot's user id starts with this; no person's may (`TokenVerifier` refuses it).
    public static let botUserIDPrefix = "bot:"

    /// The principal a live key stands for. Its user id is `bot:<key id>`, so idempotency
    /// keys and authorship belong to the key, not to its (reusable) name.
    public static func principal(for record: APIKeyRecord) -> Principal {
        Principal(
            userID: botUserIDPrefix + record.id, name: record.name, roles: [], channels: Set(record.channels), expiresAt: nil,
            kind: .bot(keyID: record.id, scopes: Set(record.scopes), channels: Set(record.channels)))
    }
}
