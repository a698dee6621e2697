import NIOCore

/// What a session needs from its connection. Implemented by the transport's handler and
/// confined to its event loop.
public protocol ConnectionOutput: FrameSink {
    /// Queues and flushes one frame.
    func send(_ frame: ByteBuffer)
    /// The credentials changed (refresh): reschedule expiry warnings and the close at `exp`.
    func credentialsChanged(_ principal: Principal)
    /// The connection's session, once it is authenticated (how an admin's action reaches
    /// the subscriptions of a user's connections).
    var session: Session? { get }
}
