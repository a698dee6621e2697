import DugnadCore
import PostgresNIO

extension PostgresWriteTransaction {
    func setGoals(_ goals: [GoalRecord]) throws -> WriteOutcome {
        try db.query("DELETE FROM goals")
        for goal in goals {
            try db.query(
                """
                INSERT INTO goals (metric, target, set_by, set_at)
                VALUES (\(goal.metric.rawValue), \(goal.target), \(goal.setBy), \(goal.setAt))
                """)
        }
        return .done
    }
}
