import Dispatch
import DugnadCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// At most `size` PostgreSQL connections, lent one at a time to blocking callers.
///
/// Connections are opened on first use and kept while they work. A connection is
/// dropped after any failure (its state, an open transaction or a half-read result,
/// cannot be trusted) and when the server closed it; the next caller opens a new one.
/// This is how the store reconnects after a server restart: the call that meets the dead
/// connection fails with `.unavailable`, the next one connects again.
///
/// The idle list is behind a lock; the permits (a semaphore of `size`) bound both the
/// connections and the callers inside, so a caller beyond `size` waits for one to come back.
final class BlockingConnectionPool: Sendable {
    private let configuration: PostgresConnection.Configuration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let queryTimeout: TimeAmount
    private let permits: DispatchSemaphore
    private let state: NIOLockedValueBox<State>

    private struct State {
        var idle: [PostgresConnection] = []
        var nextID = 1
        var closed = false
    }

    init(
        size: Int, configuration: PostgresConnection.Configuration, group: any EventLoopGroup, logger: Logger,
        queryTimeout: TimeAmount
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.queryTimeout = queryTimeout
        self.permits = DispatchSemaphore(value: max(1, size))
        self.state = NIOLockedValueBox(State())
    }

    /// Runs `body` with a connection of its own. When `retryOnLostConnection` is true and
    /// the body fails because the connection was lost, it runs once more on a new
    /// connection: only for bodies that are safe to repeat (reads).
    func withConnection<T>(
        retryOnLostConnection: Bool = false, _ body: (BlockingConnection) throws -> T
    ) throws -> T {
        // Bounded like every query: a caller that cannot get a connection within the query
        // timeout (every connection busy with a stuck query) fails as unavailable rather
        // than holding its thread without end.
        guard permits.wait(timeout: .now() + .nanoseconds(Int(queryTimeout.nanoseconds))) == .success else {
            throw StoreError(.unavailable, "no PostgreSQL connection became free within \(queryTimeout.nanoseconds / 1_000_000_000) s")
        }
        defer { permits.signal() }
        do {
            return try withCheckedOutConnection(body)
        } catch  where retryOnLostConnection && PostgresFailure.isConnectionLoss(error) {
            logger.debug("retrying on a new connection", metadata: ["error": "\(error)"])
            return try withCheckedOutConnection(body)
        }
    }

    /// Closes the idle connections and makes later calls fail; connections in use are
    /// closed when they come back.
    func close() {
        let idle = state.withLockedValue { state in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for connection in idle {
            _ = try? BlockingConnection.wait(for: connection.closing(), timeout: .seconds(5)) {}
        }
    }

    /// Like `close()`, without waiting: for a store that goes away without being closed.
    func closeInBackground() {
        let idle = state.withLockedValue { state in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for connection in idle {
            connection.closeInBackground()
        }
    }

    private func withCheckedOutConnection<T>(_ body: (BlockingConnection) throws -> T) throws -> T {
        let connection = try checkOut()
        let blocking = BlockingConnection(connection: connection, logger: logger, timeout: queryTimeout)
        let result: T
        do {
            result = try body(blocking)
        } catch {
            connection.closeInBackground()
            throw error
        }
        checkIn(connection)
        return result
    }

    private func checkOut() throws -> PostgresConnection {
        while true {
            let (reused, id, closed) = state.withLockedValue { state in
                let connection = state.idle.popLast()
                let id = state.nextID
                if connection == nil { state.nextID += 1 }
                return (connection, id, state.closed)
            }
            if closed {
                throw StoreError(.unavailable, "the PostgreSQL store is closed")
            }
            guard let reused else {
                return try connect(id: id)
            }
            // The server may have closed it while idle (restart, idle timeout).
            if !reused.isClosed {
                return reused
            }
        }
    }

    private func checkIn(_ connection: PostgresConnection) {
        let keep = state.withLockedValue { state in
            guard !state.closed, !connection.isClosed else { return false }
            state.idle.append(connection)
            return true
        }
        if !keep {
            connection.closeInBackground()
        }
    }

    private func connect(id: Int) throws -> PostgresConnection {
        let future = PostgresConnection.connect(
            on: group.next(), configuration: configuration, id: id, logger: logger)
        do {
            // The connect timeout of the configuration fails the future first; this bound
            // only covers a server that accepts the socket and then never answers.
            return try BlockingConnection.wait(for: future, timeout: configuration.options.connectTimeout + .seconds(5)) {
                future.whenSuccess { $0.closeInBackground() }
            }
        } catch {
            let endpoint = "\(configuration.host ?? "?"):\(configuration.port ?? 0)"
            let mapped = PostgresFailure.storeError(error, doing: "connect to \(endpoint)")
            let prefix = PostgresFailure.lostConnectionPrefix
            throw mapped.message.hasPrefix(prefix) ? mapped : StoreError(.unavailable, "\(prefix): \(mapped.message)")
        }
    }
}
