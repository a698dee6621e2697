import GRDB

/// Migration `v13-active-day-counts`: how many people were active on each UTC day, kept
/// beside `user_active_days` by a trigger, so that the daily figures of a year read 365
/// rows instead of every (day, person) row of the year (830,000 in the year of
/// docs/benchmarks.md: 70–84 ms of the 365-day figures' CPU). A row of user_active_days
/// is written once per person and day (the session triggers insert with DO NOTHING, which
/// fires no insert trigger), so the count is a few thousand updates a day, none of them
/// on the publish path.
enum SQLiteActiveDayCounts {
    static func createTables(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE active_day_counts (
                    day INTEGER NOT NULL PRIMARY KEY,
                    users INTEGER NOT NULL
                );
                CREATE TRIGGER user_active_days_count AFTER INSERT ON user_active_days
                BEGIN
                    INSERT INTO active_day_counts (day, users) VALUES (NEW.day, 1)
                    ON CONFLICT (day) DO UPDATE SET users = users + 1;
                END;
                INSERT INTO active_day_counts (day, users)
                SELECT day, count(*) FROM user_active_days GROUP BY day;
                """)
    }
}
