import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// The bus's LISTEN connection: connects, listens on the bus channel, and when the
/// connection is lost (server restarted, network cut, no answer to a ping) connects again
/// with exponential backoff and listens again. `onConnected` runs after every successful
/// LISTEN, so that the bus can catch up on what it missed while deaf.
///
/// State (the current connection, whether it is stopped) is behind a lock; the loop runs
/// in one task started by `start()` and ended by `stop()`.
final class BusListener: Sendable {
    struct Callbacks: Sendable {
        /// A notification's payload; called on the connection's event loop.
        var notification: @Sendable (String) -> Void
        /// Listening (again); everything sent before may have been missed.
        var connected: @Sendable () -> Void
        /// The connection is gone.
        var disconnected: @Sendable () -> Void
    }

    private struct State {
        var callbacks: Callbacks?
        var connection: PostgresConnection?
        var connected = false
        var stopped = false
        var task: Task<Void, Never>?
    }

    private let configuration: PostgresConnection.Configuration
    private let group: any EventLoopGroup
    private let channel: String
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    private let finished = DispatchSemaphore(value: 0)

    /// Seconds between pings on an idle connection: a server that vanished without closing
    /// the socket is noticed within about this long plus `pingTimeout`.
    static let pingInterval: TimeAmount = .seconds(2)
    static let pingTimeout: TimeAmount = .seconds(5)
    static let firstBackoff: TimeAmount = .milliseconds(100)
    static let maxBackoff: TimeAmount = .seconds(5)

    init(configuration: PostgresConnection.Configuration, group: any EventLoopGroup, channel: String, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.channel = channel
        self.logger = logger
    }

    /// True while listening.
    var isConnected: Bool { state.withLockedValue { $0.connected } }

    /// Starts the loop; `callbacks` are called from it until `stop()`.
    func start(_ callbacks: Callbacks) {
        let task = Task { [self] in
            await run(callbacks)
            finished.signal()
        }
        state.withLockedValue { $0.task = task }
    }

    /// Closes the connection and waits (at most a few seconds) for the loop to end.
    func stop() {
        let (connection, task, wasStopped) = state.withLockedValue { state in
            defer { state.stopped = true }
            return (state.connection, state.task, state.stopped)
        }
        guard let task, !wasStopped else { return }
        connection?.closeInBackground()
        task.cancel()
        _ = finished.wait(timeout: .now() + .seconds(5))
    }

    private var isStopped: Bool { state.withLockedValue { $0.stopped } }

    private func run(_ callbacks: Callbacks) async {
        var backoff = Self.firstBackoff
        var id = 1
        while !isStopped {
            var listened = false
            do {
                let connection: PostgresConnection = try await PostgresConnection.connect(
                    on: group.next(), configuration: configuration, id: id, logger: logger)
                id += 1
                let kept = state.withLockedValue { state -> Bool in
                    guard !state.stopped else { return false }
                    state.connection = connection
                    return true
                }
                guard kept else {
                    connection.closeInBackground()
                    return
                }
                let notification = callbacks.notification
                connection.addListener(channel: channel) { _, response in notification(response.payload) }
                // Statements run in order on a connection: once this answers, the LISTEN
                // sent before it is in force.
                try await ping(connection)
                listened = true
                state.withLockedValue { $0.connected = true }
                logger.info("bus listening", metadata: ["channel": "\(channel)"])
                callbacks.connected()
                backoff = Self.firstBackoff
                try await watch(connection)
            } catch {
                if !isStopped {
                    logger.warning("bus connection lost", metadata: ["error": "\(PostgresFailure.describe(error))"])
                }
            }
            let connection = state.withLockedValue { state -> PostgresConnection? in
                state.connected = false
                defer { state.connection = nil }
                return state.connection
            }
            connection?.closeInBackground()
            if listened { callbacks.disconnected() }
            if isStopped { return }
            try? await Task.sleep(nanoseconds: UInt64(backoff.nanoseconds))
            backoff = min(backoff * 2, Self.maxBackoff)
        }
    }

    /// Returns (throwing) once the connection is closed or stops answering pings.
    private func watch(_ connection: PostgresConnection) async throws {
        var sincePing: TimeAmount = .zero
        let step: TimeAmount = .milliseconds(200)
        while !isStopped {
            if connection.isClosed { throw ListenerClosed() }
            try await Task.sleep(nanoseconds: UInt64(step.nanoseconds))
            sincePing = sincePing + step
            if sincePing >= Self.pingInterval {
                sincePing = .zero
                try await ping(connection)
            }
        }
    }

    /// `SELECT 1`, closing the connection when it takes longer than `pingTimeout`.
    private func ping(_ connection: PostgresConnection) async throws {
        let timeout = connection.eventLoop.scheduleTask(in: Self.pingTimeout) { connection.closeInBackground() }
        defer { timeout.cancel() }
        let answer: EventLoopFuture<PostgresQueryResult> = connection.query("SELECT 1", logger: logger)
        _ = try await answer.get()
    }

    private struct ListenerClosed: Error {}
}
