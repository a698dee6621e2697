/// The one statement both engines run for the goals' active people of several weeks at
/// once (`weekly_active_pct` and its trend): for each week ending at one of `weekEnds`,
/// the people created by its end with a session open at some time in it (opened by its
/// end, not closed before its start; an open session is alive now). Columns `week_to`
/// and `people`; a week with nobody has no row.
///
/// One range of `sessions_by_disconnected` (v11) over the sessions closed since the oldest
/// week began, each checked against the few weeks, plus the open sessions: not a scan of
/// every session ever recorded for each week, which a year of 5,000 people (800,000
/// sessions) made the bulk of GET /api/v1/goals (docs/benchmarks.md). The bounds are
/// integers written into the text, so the statement needs no parameters on any engine.
public enum ActivePeopleQuery {
    public static func sql(weekEnds: [Int64]) -> String? {
        guard let latest = weekEnds.max(), let earliest = weekEnds.min() else { return nil }
        let weeks = weekEnds.map { "(CAST(\($0 - GoalFigures.weekMillis) AS BIGINT), CAST(\($0) AS BIGINT))" }
        return """
            WITH weeks (week_from, week_to) AS (VALUES \(weeks.joined(separator: ", ")))
            SELECT d.week_to AS week_to, count(*) AS people FROM (
                SELECT w.week_to AS week_to, s.user_id AS user_id
                FROM sessions s CROSS JOIN weeks w
                WHERE s.disconnected_at >= \(earliest - GoalFigures.weekMillis) AND s.connected_at <= \(latest)
                    AND s.disconnected_at >= w.week_from AND s.connected_at <= w.week_to
                UNION
                SELECT w.week_to, s.user_id FROM sessions s CROSS JOIN weeks w
                WHERE s.disconnected_at IS NULL AND s.connected_at <= w.week_to
            ) d JOIN users u ON u.id = d.user_id
            WHERE u.created_at <= d.week_to
            GROUP BY d.week_to
            """
    }
}
