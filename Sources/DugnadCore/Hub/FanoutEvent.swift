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
    /// Where a chat message sits in its channel: set on every `message` event, so that a
    /// bus between nodes can deliver each channel's messages in seq order and fill gaps
    /// from storage. Nil for every other event, and for runs joined by `coalesced`.
    public var position: MessagePosition?

    public init(target: Target, frame: ByteBuffer, isMessage: Bool = false, position: MessagePosition? = nil) {
        self.target = target
        self.frame = frame
        self.isMessage = isMessage
        self.position = position
    }

    /// A message's channel and seq.
    public struct MessagePosition: Sendable, Equatable, Hashable {
        public var channel: String
        public var seq: Int64

        public init(channel: String, seq: Int64) {
            self.channel = channel
            self.seq = seq
        }
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
/// event loops; a multi-node bus also forwards them to the other nodes, and brings their
/// presence and announcement figures into this node's hub.
public protocol EventBus: Sendable {
    /// Delivers events in order. Called from the writer's queue for durable events (in
    /// seq order) and from anywhere for ephemeral ones (typing, reactions, receipts).
    func publish(_ events: [FanoutEvent])

    /// Called by `Hub.start()` once storage is prepared: a multi-node bus connects and
    /// starts feeding other nodes' presence and figures into `hub`. Default: nothing.
    func start(hub: Hub) throws

    /// Called by `Hub.shutdown()` after the last commit, before storage closes: hands on
    /// what is queued (bounded by a short wait) and lets go of the hub. Default: nothing.
    func stop()

    /// False while the bus cannot reach the other nodes (`/readyz`). Default true.
    var isHealthy: Bool { get }

    /// Whether the bus carries this node's presence to other nodes (`publishPresence`):
    /// only then does the hub record its presence changes for it. Default false.
    var sharesPresence: Bool { get }

    /// This node's presence changed (coalesced, every `presenceFlushMillis`): the other
    /// nodes fold it into theirs. Default: nothing (one node has no one to tell).
    func publishPresence(_ changes: [PresenceState.Change])

    /// Announcement figures changed on this node (a receipt, a delivery): the other nodes
    /// recompute them from storage for their own watchers. Default: nothing.
    func publishStatsChanged(_ announcementIDs: [String])

    /// A connection of this node subscribed to `channel`, whose last seq was `lastSeq`
    /// when the join read it: a bus that orders messages starts the channel there if it
    /// has not seen it yet, so that no message after it is skipped. Default: nothing.
    func subscribed(channel: String, lastSeq: Int64)
}

extension EventBus {
    public func start(hub: Hub) throws {}
    public func stop() {}
    public var isHealthy: Bool { true }
    public var sharesPresence: Bool { false }
    public func publishPresence(_ changes: [PresenceState.Change]) {}
    public func publishStatsChanged(_ announcementIDs: [String]) {}
    public func subscribed(channel: String, lastSeq: Int64) {}
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
