import NIOCore

/// Keeps one connection's changes in the order its commands arrived.
///
/// A command may read before it writes (react looks up the message, a join on a cold
/// cache reads the channel), and reads run on a pool of threads, so two commands sent back
/// to back could reach the single writer in the other order: a reaction's removal before
/// its addition, which then stays (seen on PostgreSQL, whose reads take longer). Each
/// command that may write takes a ticket in arrival order; its write is handed to the
/// writer only once every earlier ticket was handed on or given up. The reads still run
/// side by side; only the hand-over to the writer waits.
///
/// Confined to the connection's event loop, like the session that owns it.
public final class WriteOrder {
    private let loop: any EventLoop
    private var last: EventLoopFuture<Void>

    public init(loop: any EventLoop) {
        self.loop = loop
        self.last = loop.makeSucceededVoidFuture()
    }

    /// The next place in line.
    public func ticket() -> WriteTicket {
        let ticket = WriteTicket(previous: last, loop: loop)
        last = ticket.handedOn
        return ticket
    }
}

@available(*, unavailable)
extension WriteOrder: Sendable {}

/// One command's place in its connection's `WriteOrder`. Every ticket ends exactly once:
/// with its write (`whenTurn`) or given up (`release`, when the command ends without
/// writing); a second end does nothing.
public final class WriteTicket: Sendable {
    private let previous: EventLoopFuture<Void>
    private let turn: EventLoopPromise<Void>
    /// Whether the ticket ended; only read and written on the connection's loop.
    private let ended: NIOLoopBoundBox<Bool>

    /// Made on `loop` (by `WriteOrder.ticket()`).
    init(previous: EventLoopFuture<Void>, loop: any EventLoop) {
        self.previous = previous
        self.turn = loop.makePromise(of: Void.self)
        self.ended = NIOLoopBoundBox(false, eventLoop: loop)
    }

    /// Completes once this ticket is handed on or given up.
    var handedOn: EventLoopFuture<Void> { turn.futureResult }

    /// Runs `submit` (the hand-over to the writer) once every earlier ticket has ended. A
    /// ticket serves one write: a second one, or one after `release`, is submitted as soon
    /// as the turn comes, without holding anyone up.
    public func whenTurn(_ submit: @escaping @Sendable () -> Void) {
        previous.whenComplete { [self] _ in
            submit()
            end()
        }
    }

    /// Gives the place up (the command ended without writing). Harmless after `whenTurn`.
    public func release() {
        previous.whenComplete { [self] _ in end() }
    }

    /// Runs on the connection's loop (`previous` completes there).
    private func end() {
        guard !ended.value else { return }
        ended.value = true
        turn.succeed(())
    }
}
