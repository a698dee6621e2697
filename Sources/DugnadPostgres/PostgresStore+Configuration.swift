import DugnadCore
import Foundation

extension PostgresStore {
    /// Where the database is and how this node uses it.
    ///
    /// Built from a URL (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`) by
    /// `init(url:)`; the other settings have defaults that suit one hub node.
    public struct Configuration: Sendable, Equatable {
        public var host: String
        /// 5432 when the URL names no port.
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String

        /// Identifies this node in `sessions.node_id` and in the `nodes` table. Default: a
        /// random `n_…` id per process. A node given the same id across restarts (its host
        /// name, say) gets its own sessions closed at once by `prepare()`; one with a fresh
        /// id leaves them to `closeSessionsOfDeadNodes`, once the old id has been silent for
        /// `nodeTimeoutMillis`.
        public var nodeID: String

        /// How long a node may go without a heartbeat before other nodes treat its open
        /// sessions as abandoned. Default 60 s: four of the hub's 15 s heartbeats, so that a
        /// slow or paused node is not declared dead by one late heartbeat.
        public var nodeTimeoutMillis: Int64

        /// Connections for reads, used by the hub's read threads. Default 4: reads are short,
        /// and every node's connections count against the server's `max_connections`.
        public var readConnections: Int

        /// How long one statement may take before the connection is closed and the call
        /// fails with `.unavailable`. Default 60 s: long enough to wait for another node's
        /// migration or a batch holding a channel's row lock, short enough that a server
        /// that stopped answering does not hang the writer for good.
        public var queryTimeoutSeconds: Int64

        /// How long to wait for a connection to be established. Default 10 s; the URL's
        /// `connect_timeout=SECONDS` (libpq's name for it) sets it.
        public var connectTimeoutSeconds: Int64

        /// The schema the store's tables live in (PostgreSQL's `search_path`). Default nil:
        /// the server's default (`public`). Tests give each store a schema of its own.
        public var schema: String?

        /// Memberwise, with the defaults above.
        public init(
            host: String, port: Int = 5432, username: String, password: String? = nil, database: String,
            nodeID: String = Configuration.makeNodeID()
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.nodeID = nodeID
            self.nodeTimeoutMillis = 60_000
            self.readConnections = 4
            self.queryTimeoutSeconds = 60
            self.connectTimeoutSeconds = 10
            self.schema = nil
        }

        /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable]`
        /// (`postgresql://` too). User and password may be percent-encoded.
        ///
        /// The connection is never encrypted: the store is meant to reach a server on
        /// loopback or a private network. `sslmode` may be absent, `disable` or `allow`/
        /// `prefer` (which libpq would also accept without TLS); `require` and the
        /// `verify-*` modes are refused rather than silently ignored. `schema=NAME` sets
        /// `schema`, `connect_timeout=SECONDS` (1 to 3,600, as libpq spells it) sets
        /// `connectTimeoutSeconds`; other query items are refused, so that a typo does not
        /// pass unnoticed.
        public init(url text: String) throws {
            guard let components = URLComponents(string: text),
                let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme.lowercased())
            else {
                throw StoreError(.unavailable, "not a postgres:// URL: '\(Self.redacted(text))'")
            }
            guard let host = components.host, !host.isEmpty else {
                throw StoreError(.unavailable, "the PostgreSQL URL names no host")
            }
            guard let user = components.user, !user.isEmpty else {
                throw StoreError(.unavailable, "the PostgreSQL URL names no user")
            }
            let database = String(components.path.drop(while: { $0 == "/" }))
            guard !database.isEmpty, !database.contains("/") else {
                throw StoreError(.unavailable, "the PostgreSQL URL names no database (postgres://USER@HOST:PORT/DB)")
            }
            self.init(
                host: host, port: components.port ?? 5432,
                username: user.removingPercentEncoding ?? user,
                password: components.password.map { $0.removingPercentEncoding ?? $0 },
                database: database.removingPercentEncoding ?? database)
            for item in components.queryItems ?? [] {
                switch (item.name, item.value ?? "") {
                case ("sslmode", "disable"), ("sslmode", "allow"), ("sslmode", "prefer"):
                    continue
                case ("sslmode", let mode):
                    throw StoreError(.unavailable, "sslmode=\(mode) is not supported: the store connects without TLS")
                case ("schema", let schema) where !schema.isEmpty:
                    self.schema = schema
                case ("connect_timeout", let seconds):
                    guard let value = Int64(seconds), (1...3_600).contains(value) else {
                        throw StoreError(
                            .unavailable, "connect_timeout=\(seconds) in the PostgreSQL URL: give whole seconds, 1 to 3600")
                    }
                    connectTimeoutSeconds = value
                default:
                    throw StoreError(.unavailable, "unknown setting '\(item.name)' in the PostgreSQL URL")
                }
            }
        }

        /// `n_` and 16 random base32 characters.
        public static func makeNodeID() -> String {
            "n_" + Identifiers.random(count: 16)
        }

        /// The URL without its password, for logs and error messages.
        public var redactedURL: String {
            "postgres://\(username)@\(host):\(port)/\(database)"
        }

        private static func redacted(_ text: String) -> String {
            guard var components = URLComponents(string: text), components.password != nil else { return text }
            components.password = "***"
            return components.string ?? "(unreadable URL)"
        }
    }
}

extension PostgresStore.Configuration: CustomStringConvertible, CustomDebugStringConvertible {
    /// Everything but the password: what any log line or error may show of it.
    public var description: String {
        "PostgreSQL \(redactedURL)\(schema.map { " schema \($0)" } ?? "") node \(nodeID)"
    }

    public var debugDescription: String { description }
}
