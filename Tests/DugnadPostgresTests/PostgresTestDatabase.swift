import DugnadCore
import Foundation
import Logging
import PostgresNIO

@testable import DugnadPostgres

/// The PostgreSQL server the tests run against, named by `DUGNAD_TEST_POSTGRES_URL`
/// (`scripts/postgres start` prints one). Without it the PostgreSQL suites are skipped,
/// and say so: they need a real server, and there is no stand-in for one.
///
/// Each store under test gets a schema of its own (`t_` + random), dropped afterwards, so
/// tests never see each other's rows.
enum PostgresTestDatabase {
    static let environmentVariable = "DUGNAD_TEST_POSTGRES_URL"

    static var url: String? {
        ProcessInfo.processInfo.environment[environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var isConfigured: Bool { url != nil }

    static func freshSchemaName() -> String {
        "t_" + Identifiers.random(count: 12)
    }

    static func configuration(schema: String, nodeID: String) throws -> PostgresStore.Configuration {
        guard let url else {
            throw StoreError(.unavailable, "\(environmentVariable) is not set")
        }
        var configuration = try PostgresStore.Configuration(url: url)
        configuration.schema = schema
        configuration.nodeID = nodeID
        configuration.readConnections = 2
        configuration.queryTimeoutSeconds = 30
        return configuration
    }

    static func makeStore(schema: String, nodeID: String) throws -> PostgresStore {
        var logger = Logger(label: "dugnad-postgres-test")
        logger.logLevel = .critical
        return PostgresStore(configuration: try configuration(schema: schema, nodeID: nodeID), logger: logger)
    }

    /// Best effort: a schema left behind by a crashed test run is harmless.
    static func dropSchema(_ schema: String, using store: PostgresStore) {
        _ = try? store.readers.withConnection { db in
            try db.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(PostgresStore.quotedIdentifier(schema)) CASCADE"))
        }
    }
}
