/// Churn connections started, finished and failed, and the bound on how many are in progress
/// at once (each holds a socket until it has left).
actor ChurnLedger {
    let limit: Int
    private(set) var started = 0
    private(set) var completed = 0
    private(set) var failed = 0
    private(set) var skipped = 0
    private(set) var firstFailure: String?

    init(limit: Int) {
        self.limit = limit
    }

    var inProgress: Int { started - completed - failed }

    /// Counts a start; false (and counted as skipped) when `limit` are in progress.
    func begin() -> Bool {
        guard inProgress < limit else {
            skipped += 1
            return false
        }
        started += 1
        return true
    }

    func end(failure: (any Error)?) {
        if let failure {
            failed += 1
            if firstFailure == nil { firstFailure = "\(failure)" }
        } else {
            completed += 1
        }
    }
}
