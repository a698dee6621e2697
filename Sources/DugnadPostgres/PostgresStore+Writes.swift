import DugnadCore
import DugnadProtocol
import Foundation
import PostgresNIO

extension PostgresStore {
    /// How many times a batch runs when PostgreSQL aborts it for a deadlock or a
    /// serialization failure with another node's batch (the server picks one victim; its
    /// rerun, after a short random pause, normally goes through).
    static let maxBatchAttempts = 5

    /// Commits the batch in one transaction on the writer connection; the SQL of each op
    /// is `PostgresWriteTransaction`'s.
    ///
    /// Publishes run as one statement each and need no savepoint: every way one can fail
    /// for its own reasons (unknown channel, reply to another channel's message, a
    /// `client_id` seen before) is found before it changes anything or undone in the same
    /// statement's aftermath, so the seqs stay gapless. Any other op runs inside its own
    /// savepoint and, when it fails for its own reasons (unknown channel, taken id), rolls
    /// that back alone. Should a publish statement fail unexpectedly, the transaction is
    /// lost: the batch is rolled back and run again with a savepoint around every op. A storage
    /// failure (connection lost, server shutting down, disk full) fails the whole batch.
    /// A deadlock with another node reruns the whole batch (nothing of it was committed).
    /// A connection found dead at BEGIN is replaced once before giving up. If the
    /// connection dies during COMMIT itself, whether the batch was stored is unknown: the
    /// error says so (idempotency keys make the clients' retries safe).
    public func write(_ ops: [WriteOp]) throws -> [Result<WriteOutcome, StoreError>] {
        guard !ops.isEmpty else { return [] }
        var reconnected = false
        while true {
            do {
                return try writer.withConnection { db in
                    var attempt = 1
                    var guarded = false
                    while true {
                        do {
                            return try writeBatch(ops, guarded: guarded, db)
                        } catch let error as UnguardedPublishFailed {
                            logger.debug("batch rerun with a savepoint per op", metadata: ["error": "\(error.underlying)"])
                            try db.query("ROLLBACK")
                            guarded = true
                        } catch  where attempt < Self.maxBatchAttempts && PostgresFailure.isTransient(error) {
                            logger.debug("batch rerun after a conflict", metadata: ["error": "\(error)"])
                            try db.query("ROLLBACK")
                            // Apart, so that the two batches do not meet again at once.
                            usleep(UInt32.random(in: 5_000...20_000) * UInt32(attempt))
                            attempt += 1
                        }
                    }
                }
            } catch let error as BatchNotStarted where !reconnected && PostgresFailure.isConnectionLoss(error.underlying) {
                reconnected = true
            } catch let error as BatchNotStarted {
                throw PostgresFailure.unavailable(
                    error.underlying, doing: "store a batch of \(ops.count) writes (nothing was stored)")
            } catch let error as CommitFailed {
                throw PostgresFailure.unavailable(
                    error.underlying, doing: "commit a batch of \(ops.count) writes (it may or may not be stored)")
            } catch {
                throw PostgresFailure.unavailable(error, doing: "store a batch of \(ops.count) writes (nothing was stored)")
            }
        }
    }

    private func writeBatch(
        _ ops: [WriteOp], guarded: Bool, _ db: BlockingConnection
    ) throws -> [Result<WriteOutcome, StoreError>] {
        do {
            try db.query("BEGIN")
        } catch {
            throw BatchNotStarted(underlying: error)
        }
        // Publishing locks each channel's row until commit. A batch publishing to several
        // channels takes those locks first, in name order: two nodes' batches then queue
        // behind each other instead of deadlocking over channels taken in opposite orders.
        let channels = Set(
            ops.compactMap { op -> String? in
                guard case .publish(let message) = op else { return nil }
                return message.channel
            })
        if channels.count > 1 {
            try db.query(
                """
                SELECT name FROM channels WHERE name = ANY (\(channels.sorted())::text[])
                ORDER BY name FOR NO KEY UPDATE
                """)
        }
        var results: [Result<WriteOutcome, StoreError>] = []
        results.reserveCapacity(ops.count)
        var transaction = PostgresWriteTransaction(db: db, nodeID: configuration.nodeID)
        for op in ops {
            if !guarded, case .publish(let message) = op {
                do {
                    results.append(try transaction.publishOutcome(message))
                } catch let error as StoreError where error.kind != .unavailable {
                    // Found before anything changed: the transaction is intact.
                    results.append(.failure(error))
                } catch {
                    if PostgresFailure.isTransient(error)
                        || PostgresFailure.storeError(error, doing: op.action).kind == .unavailable
                    {
                        throw error
                    }
                    throw UnguardedPublishFailed(underlying: error)
                }
                continue
            }
            try db.query("SAVEPOINT op")
            do {
                let outcome = try op.apply(to: &transaction)
                try db.query("RELEASE SAVEPOINT op")
                results.append(.success(outcome))
            } catch let discarded as DiscardedWrites {
                try rollBackOp(db)
                results.append(.success(discarded.outcome))
            } catch {
                let mapped = PostgresFailure.storeError(error, doing: op.action)
                if mapped.kind == .unavailable {
                    // The raw error, so that the caller can tell a deadlock (rerun) from the rest.
                    throw error
                }
                try rollBackOp(db)
                results.append(.failure(mapped))
            }
        }
        do {
            try commit(db)
        } catch  where PostgresFailure.isConnectionLoss(error) {
            throw CommitFailed(underlying: error)
        }
        return results
    }

    private func rollBackOp(_ db: BlockingConnection) throws {
        try db.query("ROLLBACK TO SAVEPOINT op")
        try db.query("RELEASE SAVEPOINT op")
    }
}

/// An op's outcome whose writes must not stay: a duplicate found after the op had
/// reserved a seq. The savepoint is rolled back and the outcome reported as a success.
struct DiscardedWrites: Error {
    var outcome: WriteOutcome
}

/// BEGIN failed: nothing of the batch reached the server.
private struct BatchNotStarted: Error {
    var underlying: any Error
}

/// A publish statement failed without a savepoint, so the transaction is aborted: the
/// batch runs again with a savepoint around every op.
private struct UnguardedPublishFailed: Error {
    var underlying: any Error
}

/// The connection was lost while committing: the batch may or may not be stored.
private struct CommitFailed: Error {
    var underlying: any Error
}
