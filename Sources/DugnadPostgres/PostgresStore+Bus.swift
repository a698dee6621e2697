import DugnadCore
import PostgresNIO

/// What the event bus between nodes needs of the database: the name of its notification
/// channel, a connection of its own for NOTIFY, and the spool for items too large for a
/// notification's 8,000-byte payload.
extension PostgresStore {
    /// The spool: one row per oversized bus item, read by the other nodes once notified
    /// of its id, deleted by the sender after `spoolRetentionMillis`.
    static let busTables: [String] = [
        """
        CREATE TABLE bus_spool (
            id BIGSERIAL PRIMARY KEY,
            created_at BIGINT NOT NULL,
            payload TEXT NOT NULL
        )
        """,
        "CREATE INDEX bus_spool_created_at ON bus_spool (created_at)",
    ]

    /// How long a spooled item stays readable. Default 5 minutes: far longer than any
    /// node takes to read a notification, short enough that the table stays small.
    static let spoolRetentionMillis: Int64 = 5 * 60 * 1000

    /// The notification channel of the nodes sharing this store. Notifications are per
    /// database, not per schema, so the schema is part of the name: stores in other
    /// schemas of the same database (tests) never hear each other.
    var busChannel: String {
        guard let schema = configuration.schema else { return "dugnad_bus" }
        let safe = String(schema.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(32))
        // FNV-1a of the exact schema name: two schemas that sanitise alike stay apart.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in schema.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return "dugnad_bus_" + safe + "_" + String(hash & 0xffff_ffff, radix: 16)
    }

    /// A pool of one connection for the bus's NOTIFYs and spool writes, apart from the
    /// writer's, so that notifying never waits behind a batch.
    func makeBusPool() -> BlockingConnectionPool {
        BlockingConnectionPool(
            size: 1, configuration: connectionConfiguration, group: group, logger: logger,
            queryTimeout: .seconds(configuration.queryTimeoutSeconds))
    }

    /// Sends one notification on `channel`.
    static func notify(_ db: BlockingConnection, channel: String, payload: String) throws {
        try db.query("SELECT pg_notify(\(channel), \(payload))")
    }

    /// Stores an oversized item's payload; returns its id.
    static func spool(_ db: BlockingConnection, payload: String, at now: Int64) throws -> Int64 {
        guard
            let id = try db.value(
                "INSERT INTO bus_spool (created_at, payload) VALUES (\(now), \(payload)) RETURNING id", as: Int64.self)
        else {
            throw StoreError(.unavailable, "the spool returned no id")
        }
        return id
    }

    /// Deletes spooled items older than the retention.
    static func trimSpool(_ db: BlockingConnection, now: Int64) throws {
        try db.query("DELETE FROM bus_spool WHERE created_at < \(now - spoolRetentionMillis)")
    }

    /// A spooled payload; nil when it is gone (older than the retention).
    func spooledPayload(id: Int64) throws -> String? {
        try reading("read a spooled bus item") { db in
            try db.value("SELECT payload FROM bus_spool WHERE id = \(id)", as: String.self)
        }
    }
}
