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
    /// The frame compressed for connections with permessage-deflate, made lazily; nil when
    /// the hub compresses nothing. `LocalFanout` attaches it after joining runs, so the
    /// joined buffer is what gets compressed.
    public var compressedFrames: CompressedFrames?

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
