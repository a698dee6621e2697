import DugnadProtocol
import NIOCore

/// One event for many connections: the complete WebSocket frame, encoded once; every
/// recipient is handed the same `ByteBuffer` (copy-on-write storage, never copied).
public struct FanoutEvent: Sendable {
    public enum Target: Sendable, Equatable {
        /// Connections subscribed to the channel, except every connection of `exceptUser`.
        case channel(String, exceptUser: String?)
        /// Every connection of these users, joined to anything or not.
        case users([String])
    }

    public var target: Target
    public var frame: ByteBuffer
    /// A chat message (counted in `dugnad_messages_out_total`), as opposed to presence,
    /// typing, receipts and the like.
    public var isMessage: Bool
    /// How many events `frame` holds: more than one once `coalesced` has joined a run.
    public var count: Int = 1

    public init(target: Target, frame: ByteBuffer, isMessage: Bool = false) {
        self.target = target
        self.frame = frame
        self.isMessage = isMessage
    }

    /// Most bytes one joined frame holds: a run is split beyond it, so that one write
    /// never comes near a connection's outbound limit on its own.
    public static let maxCoalescedBytes = 64 * 1024

    /// Joins each run of consecutive events for the same recipients into one event whose
    /// buffer holds their frames back to back. A recipient then costs one write per run
    /// instead of one per event, and the joined buffer is still built once and shared by
    /// every recipient. Order is kept: within a run, and between runs.
    public static func coalesced(_ events: [FanoutEvent]) -> [FanoutEvent] {
        guard events.count > 1 else { return events }
        var result: [FanoutEvent] = []
        var start = 0
        while start < events.count {
            let first = events[start]
            var end = start + 1
            var bytes = first.frame.readableBytes
            while end < events.count, events[end].target == first.target, events[end].isMessage == first.isMessage,
                bytes + events[end].frame.readableBytes <= maxCoalescedBytes
            {
                bytes += events[end].frame.readableBytes
                end += 1
            }
            if end - start == 1 {
                result.append(first)
            } else {
                var frame = ByteBufferAllocator().buffer(capacity: bytes)
                var count = 0
                for event in events[start..<end] {
                    frame.writeImmutableBuffer(event.frame)
                    count += event.count
                }
                var joined = FanoutEvent(target: first.target, frame: frame, isMessage: first.isMessage)
                joined.count = count
                result.append(joined)
            }
            start = end
        }
        return result
    }
}

/// The seam for delivery beyond this process: the local bus hands events to this node's
/// event loops; a multi-node bus also forwards them to the other nodes.
public protocol EventBus: Sendable {
    /// Delivers events in order. Called from the writer's queue for durable events (in
    /// seq order) and from anywhere for ephemeral ones (typing, presence).
    func publish(_ events: [FanoutEvent])
}

/// A connection's outbound side as the router sees it. Implementations are confined to
/// their event loop; the router only calls them on that loop.
public protocol FrameSink: AnyObject {
    var userID: String { get }
    /// Set by the router when it enqueued without flushing; cleared by `flush()`.
    var needsFlush: Bool { get set }
    /// Queues a ready frame without flushing. A sink whose outbound queue is over its
    /// limit closes itself (4008) instead of queueing.
    func enqueue(_ frame: ByteBuffer)
    func flush()
    /// Closes the connection with a close frame (e.g. 4500 for a revoked key).
    func close(code: CloseCode, reason: String)
}
