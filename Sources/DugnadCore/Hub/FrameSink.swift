import DugnadProtocol
import NIOCore

/// A connection's outbound side as the router sees it. Implementations are confined to
/// their event loop; the router only calls them on that loop.
public protocol FrameSink: AnyObject {
    var userID: String { get }
    /// Set by the router when it enqueued without flushing; cleared by `flush()`.
    var needsFlush: Bool { get set }
    /// The window (8–15 bits) this connection's permessage-deflate inflates with; nil
    /// when it negotiated none and gets the plain frames.
    var deflateWindowBits: Int? { get }
    /// Queues a ready frame without flushing. A sink whose outbound queue is over its
    /// limit closes itself (4008) instead of queueing.
    func enqueue(_ frame: ByteBuffer)
    func flush()
    /// Closes the connection with a close frame (e.g. 4500 for a revoked key).
    func close(code: CloseCode, reason: String)
}

extension FrameSink {
    public var deflateWindowBits: Int? { nil }
}
