import NIOConcurrencyHelpers
import NIOCore

/// State shared between the connection's channel handler (which runs on the event loop and
/// produces events) and the public async API of ``WebSocketClient`` (which runs on any task and
/// consumes them). Everything lives behind one lock so that "is there an event?", "is anyone
/// waiting?" and "is the connection gone?" are always answered consistently.
///
/// Buffering policy: events are never dropped. The buffer is bounded *softly* at `eventLimit`
/// events: when it reaches the limit the socket stops being read (autoRead off), so the server sees
/// TCP back-pressure instead of the client silently losing messages or growing without bound.
/// Reading resumes once the consumer has drained the buffer to half the limit. Frames that were
/// already read from the socket when the limit was hit are still delivered, so the count can exceed
/// the limit by at most one read's worth of frames.
final class WebSocketClientSharedState: Sendable {
    private struct Waiter: Sendable {
        let id: UInt64
        let continuation: CheckedContinuation<WebSocketClientEvent, any Error>
        /// The timeout task; cancelled when the waiter is served so timers do not pile up on the loop.
        var timer: Scheduled<Void>?
    }

    private struct State: Sendable {
        var events = CircularBuffer<WebSocketClientEvent>()
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var connectionClosed = false
        var closeFrameSent = false
        var userPausedReading = false
        var pausedForOverflow = false
        var connectionError: String?
        var compressedMessages = 0
        /// Set once the frame handler is installed; needed to re-enable reading from `receive`.
        var channel: (any Channel)?
    }

    private enum Dequeued {
        case event(WebSocketClientEvent, resumeReading: Bool)
        case cancelled
        case mustWait
    }

    let eventLimit: Int
    private let state = NIOLockedValueBox(State())

    init(eventLimit: Int) {
        precondition(eventLimit > 1, "the event limit must leave room for a low-water mark")
        self.eventLimit = eventLimit
    }

    // MARK: - Producer side (event loop)

    /// Records the channel so that the consumer side can turn reading back on.
    func attach(channel: any Channel) {
        state.withLockedValue { $0.channel = channel }
    }

    /// Hands `event` to the oldest waiting receiver, or buffers it.
    /// - Returns: `true` if this push filled the buffer, i.e. the caller (on the event loop) must
    ///   call ``applyReadState(to:)`` to stop reading.
    func push(_ event: WebSocketClientEvent) -> Bool {
        let (waiter, filled): (Waiter?, Bool) = state.withLockedValue { state in
            if !state.waiters.isEmpty {
                return (state.waiters.removeFirst(), false)
            }
            state.events.append(event)
            if !state.pausedForOverflow && state.events.count >= eventLimit {
                state.pausedForOverflow = true
                return (nil, true)
            }
            return (nil, false)
        }
        // Resume outside the lock: the resumed task may run immediately and call back in.
        if let waiter {
            waiter.timer?.cancel()
            waiter.continuation.resume(returning: event)
        }
        return filled
    }

    /// Marks the TCP connection as gone and queues the final `.disconnected` event. Idempotent,
    /// because both the channel handler and the channel's close future report it.
    func markDisconnected() {
        let waiters: [Waiter]? = state.withLockedValue { state in
            guard !state.connectionClosed else { return nil }
            state.connectionClosed = true
            state.channel = nil  // break the reference cycle channel -> handler -> self -> channel
            if state.waiters.isEmpty {
                state.events.append(.disconnected)
                return nil
            }
            // Only possible when the buffer is empty, so every waiter is owed `.disconnected`.
            let waiting = state.waiters
            state.waiters.removeAll()
            return waiting
        }
        for waiter in waiters ?? [] {
            waiter.timer?.cancel()
            waiter.continuation.resume(returning: .disconnected)
        }
    }

    /// Remembers why the connection failed; the first reason wins because later errors are
    /// usually consequences of the first.
    func recordConnectionError(_ description: String) {
        state.withLockedValue { state in
            if state.connectionError == nil { state.connectionError = description }
        }
    }

    func noteCloseFrameSent() {
        state.withLockedValue { $0.closeFrameSent = true }
    }

    // MARK: - Queries (any thread)

    var isClosed: Bool { state.withLockedValue { $0.connectionClosed } }
    /// Messages that arrived compressed (RSV1, permessage-deflate).
    var compressedMessages: Int { state.withLockedValue { $0.compressedMessages } }
    func noteCompressedMessage() { state.withLockedValue { $0.compressedMessages += 1 } }
    var closeFrameSent: Bool { state.withLockedValue { $0.closeFrameSent } }
    var connectionError: String? { state.withLockedValue { $0.connectionError } }
    var bufferedEventCount: Int { state.withLockedValue { $0.events.count } }

    // MARK: - Read control

    func setUserPausedReading(_ paused: Bool) {
        state.withLockedValue { $0.userPausedReading = paused }
    }

    /// Sets autoRead from the *current* combined wishes of the user and the overflow guard. Must run
    /// on the channel's event loop; because it reads the latest state rather than being told a value,
    /// applications that race each other onto the loop still converge on the right setting.
    func applyReadState(to channel: any Channel) {
        channel.eventLoop.preconditionInEventLoop()
        let shouldRead = state.withLockedValue { !$0.userPausedReading && !$0.pausedForOverflow }
        if let options = channel.syncOptions {
            try? options.setOption(ChannelOptions.autoRead, value: shouldRead)
        } else {
            channel.setOption(ChannelOptions.autoRead, value: shouldRead).whenFailure { _ in }
        }
    }

    // MARK: - Consumer side (any task)

    /// Returns the next event, waiting up to `timeout` for one.
    ///
    /// Once the connection is closed and every buffered event has been read, this returns
    /// `.disconnected` immediately, so a caller never waits for events that cannot arrive.
    func next(timeout: Duration, eventLoop: any EventLoop) async throws -> WebSocketClientEvent {
        // Fast path: no continuation and no timer when an event is already buffered, which is the
        // common case for a busy load generator.
        if case .event(let event, let resumeReading) = dequeue(registering: nil) {
            if resumeReading { scheduleResumeReading() }
            return event
        }

        let id = state.withLockedValue { state in
            defer { state.nextWaiterID &+= 1 }
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // Checking for an event and registering as a waiter happen under one lock, so an
                // event pushed in between cannot be missed.
                switch dequeue(registering: Waiter(id: id, continuation: continuation)) {
                case .event(let event, let resumeReading):
                    if resumeReading { scheduleResumeReading() }
                    continuation.resume(returning: event)
                case .cancelled:
                    continuation.resume(throwing: CancellationError())
                case .mustWait:
                    let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                        self.failWaiter(id: id, with: WebSocketClientTimeout())
                    }
                    let stillWaiting = state.withLockedValue { state in
                        guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return false }
                        state.waiters[index].timer = timer
                        return true
                    }
                    // Served (or cancelled) before the timer existed: nobody else will cancel it.
                    if !stillWaiting { timer.cancel() }
                }
            }
        } onCancel: {
            failWaiter(id: id, with: CancellationError())
        }
    }

    private func dequeue(registering waiter: Waiter?) -> Dequeued {
        state.withLockedValue { state in
            if let event = state.events.popFirst() {
                var resumeReading = false
                if state.pausedForOverflow && state.events.count <= eventLimit / 2 {
                    state.pausedForOverflow = false
                    resumeReading = true
                }
                return .event(event, resumeReading: resumeReading)
            }
            if state.connectionClosed {
                return .event(.disconnected, resumeReading: false)
            }
            guard let waiter else { return .mustWait }
            // Checked under the lock so it cannot interleave with the cancellation handler, which
            // also takes the lock: either we see the cancellation here or it sees our waiter.
            if Task.isCancelled { return .cancelled }
            state.waiters.append(waiter)
            return .mustWait
        }
    }

    private func failWaiter(id: UInt64, with error: any Error) {
        let waiter: Waiter? = state.withLockedValue { state in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        if let waiter {
            waiter.timer?.cancel()
            waiter.continuation.resume(throwing: error)
        }
    }

    private func scheduleResumeReading() {
        guard let channel = state.withLockedValue({ $0.channel }) else { return }
        channel.eventLoop.execute { self.applyReadState(to: channel) }
    }
}
