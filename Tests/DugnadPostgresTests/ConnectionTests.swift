import DugnadCore
import DugnadProtocol
import DugnadTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import DugnadPostgres

extension PostgresTests {
    /// Migrations, the probe, and what happens when connections or the server go away.
    @Suite struct ConnectionTests {
        @Test func prepareRecordsTheMigrationsAndIsSafeToRepeat() throws {
            let harness = try PostgresHarness()
            try harness.postgres.prepare()
            try harness.postgres.migrate()
            #expect(
                try harness.texts("SELECT name FROM dugnad_migrations ORDER BY name")
                    == [
                        // ORDER BY name: "v10" sorts after "v1-".
                        "v1-hub", "v10-direct", "v11-engagement-indexes", "v2-announcements", "v3-bus-spool",
                        "v4-governance", "v5-goals", "v6-announcement-until", "v7-directory", "v8-search", "v9-edits",
                    ])
            // The tables live in the store's own schema.
            #expect(
                try harness.count(
                    """
                    SELECT count(*) FROM information_schema.tables
                    WHERE table_schema = '\(harness.schema)' AND table_name IN ('messages', 'sessions', 'nodes', 'api_keys')
                    """) == 4)
            try harness.store.checkWritable()
            #expect(try harness.count("SELECT count(*) FROM store_probe") == 1)
        }

        @Test func theDirectoryMigrationFillsTheSearchKeysOfChannelsThatExist() throws {
            let harness = try PostgresHarness()
            // A channel as a node of before the migration wrote it: no search key.
            try harness.postgres.readers.withConnection { db in
                _ = try db.execute(
                    """
                    INSERT INTO channels (name, kind, title, epoch, last_seq, created_at)
                    VALUES ('aarsmote', 'public', 'Årsmøtet 2027', 'e_x', 0, 1)
                    """)
                try PostgresStore.fillSearchKeys(db)
            }
            #expect(try harness.texts("SELECT search_key FROM channels") == ["aarsmote\nårsmøtet 2027"])
        }

        @Test func theSchemaRefusesWhatTheStoreWouldNeverWrite() throws {
            let harness = try PostgresHarness()
            // A membership of a channel that does not exist, through a path that skips the
            // store's own checks.
            #expect(throws: PSQLError.self) {
                try harness.postgres.writer.withConnection { db in
                    try db.query(
                        "INSERT INTO memberships (user_id, channel, read_seq, joined_at) VALUES ('u1', 'nope', 0, 1)")
                }
            }
            // The write after that failure runs on a new connection.
            try createChannels(harness.store, "general")
            #expect(try harness.store.channel(named: "general")?.lastSeq == 0)
        }

        @Test func connectionsKilledByTheServerAreReplacedOnTheNextCall() throws {
            let harness = try PostgresHarness(nodeID: "n_killed")
            let watcher = try harness.another(nodeID: "n_watcher")
            try createChannels(harness.store, "general")
            _ = try harness.store.write([.publish(newMessage("m1", channel: "general"))])
            #expect(try harness.store.channel(named: "general")?.lastSeq == 1)

            // As a server restart does to every client: the backends are terminated.
            let killed = try watcher.readers.withConnection { db in
                try db.column(
                    """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name = 'dugnad n_killed'
                    """, as: Bool.self)
            }
            #expect(killed.count >= 2 && killed.allSatisfy { $0 })
            _ = try waitUntil {
                try watcher.readers.withConnection { db in
                    try db.value(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dugnad n_killed'",
                        as: Int64.self) == 0
                }
            }

            let after = try harness.store.write([.publish(newMessage("m2", channel: "general"))])
            #expect(after[0].message?.message.seq == 2)
            #expect(try harness.store.messages(channel: "general", page: .latest(limit: 10)).messages.map(\.id) == ["m1", "m2"])
            try harness.store.checkWritable()
        }

        /// Stops the real server (`scripts/postgres stop`), so it runs only when
        /// `DUGNAD_TEST_POSTGRES_CONTROL` names the script.
        @Test(.enabled(if: PostgresControl.script != nil, "set DUGNAD_TEST_POSTGRES_CONTROL=scripts/postgres"))
        func aStoreRecoversWhenTheServerComesBack() throws {
            let harness = try PostgresHarness()
            try createChannels(harness.store, "general")
            _ = try harness.store.write([.publish(newMessage("m1", channel: "general"))])

            try PostgresControl.run("stop")
            var restarted = false
            defer {
                if !restarted { try? PostgresControl.run("start") }
            }
            let writeError = #expect(throws: StoreError.self) {
                try harness.store.write([.publish(newMessage("m2", channel: "general"))])
            }
            #expect(writeError?.kind == .unavailable)
            #expect(writeError?.message.contains("nothing was stored") == true)
            #expect((#expect(throws: StoreError.self) { try harness.store.checkWritable() })?.kind == .unavailable)
            #expect((#expect(throws: StoreError.self) { try harness.store.channel(named: "general") })?.kind == .unavailable)

            try PostgresControl.run("start")
            restarted = true
            let after = try harness.store.write([.publish(newMessage("m3", channel: "general"))])
            #expect(after[0].message?.message.seq == 2)
            #expect(try harness.store.message(id: "m2") == nil)
            try harness.store.checkWritable()
        }
    }
}

/// Without a server: the URL, and a store that cannot reach one.
@Suite struct PostgresConfigurationTests {
    @Test func urlsAreParsed() throws {
        let plain = try PostgresStore.Configuration(url: "postgres://dugnad@127.0.0.1:55432/dugnad")
        #expect(plain.host == "127.0.0.1" && plain.port == 55432 && plain.username == "dugnad")
        #expect(plain.password == nil && plain.database == "dugnad" && plain.schema == nil)
        #expect(plain.nodeID.hasPrefix("n_") && plain.nodeID.count == 18)
        #expect(plain.nodeID != (try PostgresStore.Configuration(url: "postgres://a@h/d")).nodeID)

        let full = try PostgresStore.Configuration(
            url: "postgresql://us%40er:p%2Fss@db.internal/hub?sslmode=disable&schema=node_1")
        #expect(full.host == "db.internal" && full.port == 5432)
        #expect(full.username == "us@er" && full.password == "p/ss" && full.database == "hub")
        #expect(full.schema == "node_1")
        #expect(full.redactedURL == "postgres://us@er@db.internal:5432/hub")
        #expect(full.connectTimeoutSeconds == 10)

        let patient = try PostgresStore.Configuration(url: "postgres://u@h/d?connect_timeout=60&schema=s")
        #expect(patient.connectTimeoutSeconds == 60 && patient.schema == "s")
    }

    @Test(arguments: [
        "http://u@h/d", "postgres://h/d", "postgres://u@/d", "postgres://u@h", "postgres://u@h/",
        "postgres://u@h/d?sslmode=require", "postgres://u@h/d?sslmode=verify-full", "postgres://u@h/d?pool=3",
        "postgres://u@h/d?connect_timeout=0", "postgres://u@h/d?connect_timeout=ten",
        "postgres://u@h/d?connect_timeout=3601", "not a url",
    ])
    func badURLsAreRefused(_ url: String) {
        let error = #expect(throws: StoreError.self) { try PostgresStore.Configuration(url: url) }
        #expect(error?.kind == .unavailable)
    }

    @Test func passwordsStayOutOfErrors() {
        let error = #expect(throws: StoreError.self) {
            try PostgresStore.Configuration(url: "mysql://u:secret@h/d")
        }
        #expect(error?.message.contains("secret") == false)
    }

    @Test func aServerThatCannotBeReachedIsUnavailable() throws {
        var configuration = try PostgresStore.Configuration(url: "postgres://dugnad@127.0.0.1:1/dugnad")
        configuration.connectTimeoutSeconds = 2
        var logger = Logger(label: "dugnad-postgres-test")
        logger.logLevel = .critical
        let store = PostgresStore(configuration: configuration, logger: logger)
        defer { store.close() }
        for (name, call) in [
            ("prepare", { try store.prepare() }),
            ("write", { _ = try store.write([.heartbeat(at: 1)]) }),
            ("read", { _ = try store.channel(named: "general") }),
            ("probe", { try store.checkWritable() }),
        ] as [(String, () throws -> Void)] {
            let error = #expect(throws: StoreError.self, "\(name)") { try call() }
            #expect(error?.kind == .unavailable, "\(name)")
        }
        store.close()
        let closed = #expect(throws: StoreError.self) { try store.channel(named: "general") }
        #expect(closed?.message.contains("closed") == true)
    }
}
