import DugnadCore
import GRDB

extension SQLiteWriteTransaction {
    func setGoals(_ goals: [GoalRecord]) throws -> WriteOutcome {
        try db.executeCached(sql: "DELETE FROM goals")
        for goal in goals {
            try db.executeCached(
                sql: "INSERT INTO goals (metric, target, set_by, set_at) VALUES (?, ?, ?, ?)",
                arguments: [goal.metric.rawValue, goal.target, goal.setBy, goal.setAt])
        }
        return .done
    }
}
