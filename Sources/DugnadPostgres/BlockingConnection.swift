import Dispatch
import DugnadCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// A PostgreSQL connection used from a thread that may block: each call sends one
/// statement and waits for its whole result.
///
/// The `Store` protocol is synchronous and is called from the batching writer's queue or
/// the hub's read threads, never from an event loop, so blocking the caller on the
/// connection's future is the intended use (the connection's own I/O runs on the store's
/// event loop group). Waiting is bounded: a statement that gets no answer within the
/// timeout closes the connection and fails with `.unavailable`.
struct BlockingConnection {
    let connection: PostgresConnection
    let logger: Logger
    let timeout: TimeAmount

    /// Runs one statement and returns all of its rows.
    @discardableResult
    func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
        try Self.wait(for: connection.query(query, logger: logger), timeout: timeout) {
            connection.closeInBackground()
        }
    }

    /// The rows of one statement, each with access by column name.
    func rows(_ query: PostgresQuery) throws -> [PostgresRandomAccessRow] {
        try self.query(query).rows.map { $0.makeRandomAccess() }
    }

    /// The first row, if any.
    func row(_ query: PostgresQuery) throws -> PostgresRandomAccessRow? {
        try self.query(query).rows.first.map { $0.makeRandomAccess() }
    }

    /// The first column of the first row; nil when there is no row or the value is NULL.
    func value<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) throws -> T? {
        guard let row = try self.query(query).rows.first, let cell = row.first, cell.bytes != nil else {
            return nil
        }
        return try cell.decode(T.self)
    }

    /// The first column of every row.
    func column<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self) throws -> [T] {
        try self.query(query).rows.map { row in
            guard let cell = row.first else {
                throw StoreError(.unavailable, "a query returned a row without columns")
            }
            return try cell.decode(T.self)
        }
    }

    /// The number of rows an INSERT, UPDATE or DELETE touched.
    func execute(_ query: PostgresQuery) throws -> Int {
        try self.query(query).metadata.rows ?? 0
    }

    /// Blocks until the future completes or `timeout` passes; on timeout, calls
    /// `onTimeout` (which closes the connection, failing the future) and throws.
    static func wait<T: Sendable>(
        for future: EventLoopFuture<T>, timeout: TimeAmount, onTimeout: () -> Void
    ) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let outcome = NIOLockedValueBox<Result<T, any Error>?>(nil)
        future.whenComplete { result in
            outcome.withLockedValue { $0 = result }
            done.signal()
        }
        let deadline = DispatchTime.now() + .nanoseconds(Int(clamping: timeout.nanoseconds))
        if done.wait(timeout: deadline) == .timedOut {
            onTimeout()
            throw StoreError(
                .unavailable,
                "\(PostgresFailure.lostConnectionPrefix): no answer within \(timeout.nanoseconds / 1_000_000_000) s")
        }
        guard let result = outcome.withLockedValue({ $0 }) else {
            throw StoreError(.unavailable, "a PostgreSQL call completed without a result")
        }
        return try result.get()
    }
}

extension PostgresRandomAccessRow {
    /// The value of a column by name; a missing column is an error, not a crash.
    func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard contains(column) else {
            throw StoreError(.unavailable, "a query result has no column '\(column)'")
        }
        return try self[column].decode(T.self)
    }
}

extension PostgresConnection {
    /// Starts closing the connection and returns at once. The callback holds the
    /// connection until it is closed (PostgresNIO insists on being closed before it goes).
    func closeInBackground() {
        closing().whenComplete { _ in withExtendedLifetime(self) {} }
    }

    /// The future-returning `close()` (the name alone is ambiguous with the async one).
    func closing() -> EventLoopFuture<Void> {
        let future: EventLoopFuture<Void> = close()
        return future
    }
}
