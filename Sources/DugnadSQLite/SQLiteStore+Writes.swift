import DugnadCore
import DugnadProtocol
import GRDB

extension SQLiteStore {
    /// Commits the batch in one transaction (one WAL append for the whole group), each op
    /// other than a publish inside its own savepoint (publishes: `SQLitePublishRun`); the
    /// SQL of each op is `SQLiteWriteTransaction`'s.
    ///
    /// An op that fails for its own reasons (unknown channel, taken id) changes nothing:
    /// a publish fails before it writes, any other op rolls back its savepoint, so the
    /// seqs of the batch stay gapless.
    /// A storage failure (full disk, read-only file, I/O error) fails the whole batch
    /// instead: SQLite may already have rolled the transaction back, so no op of the
    /// batch can be reported as stored.
    public func write(_ ops: [WriteOp]) throws -> [Result<WriteOutcome, StoreError>] {
        guard !ops.isEmpty else { return [] }
        let results: [Result<WriteOutcome, StoreError>]
        do {
            results = try pool.write { db in
                var results: [Result<WriteOutcome, StoreError>] = []
                results.reserveCapacity(ops.count)
                // Savepoint statements are prepared once and reused (GRDB's `inSavepoint`
                // compiles them for every op: measurable at thousands of ops a second).
                let savepoint = try db.cachedStatement(sql: "SAVEPOINT op")
                let release = try db.cachedStatement(sql: "RELEASE SAVEPOINT op")
                let rollback = try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT op")
                var transaction = SQLiteWriteTransaction(db)
                for op in ops {
                    if case .publish(let message) = op {
                        // No savepoint: a publish that fails for its own reasons has changed
                        // nothing (see `SQLitePublishRun`).
                        do {
                            results.append(.success(try transaction.publish(message)))
                        } catch {
                            results.append(.failure(try Self.ownFailure(error, of: op)))
                        }
                        continue
                    }
                    // Other ops may read the rows the run has counted, and those rows must not
                    // be rolled back with the op's savepoint.
                    try transaction.finishPublishes()
                    try savepoint.execute()
                    do {
                        let outcome = try op.apply(to: &transaction)
                        try release.execute()
                        results.append(.success(outcome))
                    } catch {
                        let failure = try Self.ownFailure(error, of: op)
                        // The op's own failure: undo its changes and go on with the rest of
                        // the batch.
                        try rollback.execute()
                        try release.execute()
                        results.append(.failure(failure))
                    }
                }
                try transaction.finishPublishes()
                return results
            }
        } catch {
            // Thrown by an op, or by COMMIT itself: the transaction is rolled back.
            throw StoreError.unavailable(error, doing: "store a batch of \(ops.count) writes (nothing was stored)")
        }
        lastWrite.withLockedValue { $0 = .now }
        restartWALIfOversized()
        return results
    }

    /// `error` as the op's own failure (unknown channel, taken id…), to report and go on
    /// with the batch; rethrown when it is the storage's (full disk, I/O), which fails the
    /// whole batch.
    private static func ownFailure(_ error: any Error, of op: WriteOp) throws -> StoreError {
        let mapped = StoreError.mapping(error, doing: op.action)
        if mapped.kind == .unavailable { throw mapped }
        return mapped
    }
}

extension Database {
    /// Runs one statement prepared once per connection and kept in GRDB's statement cache:
    /// the write paths run the same few statements thousands of times a second, and
    /// compiling each time (with GRDB's authorizer walking every column) was most of
    /// their cost. Only for fixed SQL text: each distinct text is cached for good.
    func executeCached(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
