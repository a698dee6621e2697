import Testing

/// The behaviour checks against the reference store, on a temporary SQLite file: proof
/// that the expectations ported for PostgreSQL are the SQLite store's own.
@Suite struct SQLiteStoreParityTests {
    @Test(arguments: StoreBehaviour.all)
    func sqliteStore(_ behaviour: Behaviour) throws {
        try SQLiteHarness.run { harness in try behaviour.check(harness) }
    }
}

/// Everything that needs a real PostgreSQL server. Skipped, and reported as skipped,
/// when `DUGNAD_TEST_POSTGRES_URL` is not set: `scripts/postgres start` starts a
/// throwaway server and prints the URL. Serialized, because the restart test stops the
/// server and the lock tests watch the server's activity.
@Suite(
    .serialized,
    .enabled(
        if: PostgresTestDatabase.isConfigured,
        "needs a PostgreSQL server: run scripts/postgres start and set DUGNAD_TEST_POSTGRES_URL to the URL it prints")
)
struct PostgresTests {}

extension PostgresTests {
    /// The same checks as `SQLiteStoreParityTests`, each on a fresh schema.
    @Suite struct StoreBehaviourTests {
        @Test(arguments: StoreBehaviour.all)
        func postgresStore(_ behaviour: Behaviour) throws {
            try PostgresHarness.run { harness in try behaviour.check(harness) }
        }
    }
}
