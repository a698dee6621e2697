import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// The bus's LISTEN connection: connects, listens on the bus channel, and when the
/// connection is lost (server restarted, network cut, no answer to a ping) connects again
/// with exponential backoff and listens again. `connected` runs after every successful
/// LISTEN, so that the bus can catch up on what it missed while deaf.
///
/// Everything runs on one event loop with futures and scheduled tasks: nothing here waits
/// on a thread, and nothing needs Swift concurrency's small shared pool (a listener that
/// slept in a `Task` stalled every other user of that pool when many hubs started at once
/// in one test process). State is behind a lock, because `isConnected` and `stop()` are
/// called from other threads.
final class BusListener: Sendable {
    struct Callbacks: Sendable {
        /// A notification's payload; called on the listener's event loop.
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
        var nextID = 1
        var backoff = BusListener.firstBackoff
        var pinger: RepeatedTask?
        var retry: Scheduled<Void>?
    }

    private let configuration: PostgresConnection.Configuration
    private let loop: any EventLoop
    private let channel: String
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    /// Seconds between pings on an idle connection: a server that vanished without closing
    /// the socket is noticed within about this long plus `pingTimeout`.
    static let pingInterval: TimeAmount = .seconds(2)
    static let pingTimeout: TimeAmount = .seconds(5)
    static let firstBackoff: TimeAmount = .milliseconds(100)
    static let maxBackoff: TimeAmount = .seconds(5)

    init(configuration: PostgresConnection.Configuration, group: any EventLoopGroup, channel: String, logger: Logger) {
        self.configuration = configuration
        self.loop = group.next()
        self.channel = channel
        self.logger = logger
    }

    /// True while listening.
    var isConnected: Bool { state.withLockedValue { $0.connected } }

    /// Starts connecting; `callbacks` are called until `stop()`. Returns at once.
    func start(_ callbacks: Callbacks) {
        state.withLockedValue { $0.callbacks = callbacks }
        loop.execute { self.attempt() }
    }

    /// Closes the connection and ends reconnecting. Returns at once; no callback runs
    /// after it.
    func stop() {
        let (connection, pinger, retry) = state.withLockedValue { state in
            state.stopped = true
            state.connected = false
            state.callbacks = nil
            defer {
                state.connection = nil
                state.pinger = nil
                state.retry = nil
            }
            return (state.connection, state.pinger, state.retry)
        }
        pinger?.cancel()
        retry?.cancel()
        connection?.closeInBackground()
    }

    /// One connection attempt: connect, LISTEN, and a ping that proves the LISTEN is in force.
    private func attempt() {
        let next = state.withLockedValue { state -> (Callbacks, Int)? in
            guard !state.stopped, let callbacks = state.callbacks else { return nil }
            state.nextID += 1
            return (callbacks, state.nextID - 1)
        }
        guard let (callbacks, id) = next else { return }
        let loop = self.loop
        PostgresConnection.connect(on: loop, configuration: configuration, id: id, logger: logger)
            .flatMap { connection -> EventLoopFuture<PostgresConnection> in
                let kept = self.state.withLockedValue { state -> Bool in
                    guard !state.stopped else { return false }
                    state.connection = connection
                    return true
                }
                guard kept else {
                    connection.closeInBackground()
                    return loop.makeFailedFuture(Stopped())
                }
                connection.addListener(channel: self.channel) { _, response in callbacks.notification(response.payload) }
                // Statements run in order on a connection: once this answers, the LISTEN
                // sent before it is in force.
                return self.ping(connection).map { connection }
            }
            .whenComplete { result in
                switch result {
                case .success(let connection):
                    self.listening(on: connection, callbacks)
                case .failure(let error):
                    if !(error is Stopped) {
                        self.logger.warning(
                            "bus cannot listen", metadata: ["error": "\(PostgresFailure.describe(error))"])
                    }
                    self.lost(nil, listened: false)
                }
            }
    }

    private func listening(on connection: PostgresConnection, _ callbacks: Callbacks) {
        let loop = self.loop
        let stillCurrent = state.withLockedValue { state -> Bool in
            guard !state.stopped, state.connection === connection else { return false }
            state.connected = true
            state.backoff = Self.firstBackoff
            // A ping that fails ends the repetition; the connection is closed by then.
            state.pinger = loop.scheduleRepeatedAsyncTask(initialDelay: Self.pingInterval, delay: Self.pingInterval) { _ in
                self.ping(connection)
            }
            return true
        }
        guard stillCurrent else { return }
        logger.info("bus listening", metadata: ["channel": "\(channel)"])
        callbacks.connected()
        connection.closeFuture.whenComplete { _ in
            self.logger.warning("bus connection lost")
            self.lost(connection, listened: true)
        }
    }

    /// The connection (or the attempt) is gone: tell the bus, and try again after the backoff.
    private func lost(_ connection: PostgresConnection?, listened: Bool) {
        let loop = self.loop
        let outcome = state.withLockedValue { state -> (PostgresConnection?, RepeatedTask?, Callbacks?, TimeAmount)? in
            if let connection, state.connection !== connection { return nil }
            let lost = state.connection
            let pinger = state.pinger
            state.connection = nil
            state.pinger = nil
            state.connected = false
            let delay = state.backoff
            state.backoff = min(state.backoff * 2, Self.maxBackoff)
            guard !state.stopped else { return (lost, pinger, nil, delay) }
            state.retry = loop.scheduleTask(in: delay) { self.attempt() }
            return (lost, pinger, state.callbacks, delay)
        }
        guard let (lostConnection, pinger, callbacks, _) = outcome else { return }
        pinger?.cancel()
        lostConnection?.closeInBackground()
        if listened { callbacks?.disconnected() }
    }

    /// `SELECT 1`, closing the connection when it fails or takes longer than `pingTimeout`.
    private func ping(_ connection: PostgresConnection) -> EventLoopFuture<Void> {
        let timeout = loop.scheduleTask(in: Self.pingTimeout) { connection.closeInBackground() }
        let answer: EventLoopFuture<PostgresQueryResult> = connection.query("SELECT 1", logger: logger)
        return answer.map { _ in }.always { result in
            timeout.cancel()
            if case .failure = result { connection.closeInBackground() }
        }
    }

    private struct Stopped: Error {}
}
