import DugnadCore
import NIOCore

/// The frames one connection is handed between two flushes, joined into one buffer, so
/// that a fan-out drain costs each connection one channel write instead of one per event.
///
/// Measured (issue 14, groups overload: 10,000 subscribers in 100 channels, 10,000 msg/s):
/// events of a hundred channels interleave, so `FanoutEvent.coalesced` finds no runs, and a
/// drain made one `ChannelHandlerContext.write` per delivery, a million a second. Each
/// write is NIO's pipeline walk, a pending-write record and a dozen retains (the hub's
/// profile: `swift_retain` 32 %, NIO's pending-write ring 7 %, `ChannelPipeline.channel`
/// 6 %); the event loop then sat in one drain for seconds while publishers' replies piled up.
/// Copying a 150-byte frame into a connection's own buffer costs a fraction of that.
///
/// The first frame is kept as it is (the event's shared buffer, no copy): a connection
/// that gets one frame per drain, as in a one-channel fan-out, is written exactly as
/// before. Only a second small frame starts a buffer of the connection's own; a large
/// frame (a coalesced run, a history page) is never copied, but handed on as it is.
struct OutboundGather {
    /// Most bytes gathered before they are handed on: one write never comes near a
    /// connection's outbound limit on its own (the same bound as a coalesced run).
    static let maxBytes = FanoutEvent.maxCoalescedBytes
    /// Frames of this size or more are written as they are: copying 2 KiB costs about
    /// what a channel write does, and ten thousand connections each copying a shared
    /// 64 KiB run would cost hundreds of megabytes.
    static let copyBelowBytes = 2_048

    private var gathered: ByteBuffer?
    /// Whether `gathered` is a buffer of this connection's own (else the shared first frame).
    private var owned = false

    /// Adds `frame` behind what is gathered. Returns what must be written now, ahead of
    /// it, when the two would exceed `maxBytes` or either is too large to copy.
    mutating func add(_ frame: ByteBuffer) -> ByteBuffer? {
        guard var joined = gathered else {
            gathered = frame
            owned = false
            return nil
        }
        let tooLarge = joined.readableBytes + frame.readableBytes > Self.maxBytes
        let notWorthCopying = frame.readableBytes >= Self.copyBelowBytes || (!owned && joined.readableBytes >= Self.copyBelowBytes)
        guard !tooLarge, !notWorthCopying else {
            gathered = frame
            owned = false
            return joined
        }
        gathered = nil
        if !owned {
            // Room for the two; a third grows it (ByteBuffer doubles). Twice the room held
            // 4 KiB for each of 10,000 subscribers that got two small frames in a drain.
            var own = ByteBufferAllocator().buffer(capacity: joined.readableBytes + frame.readableBytes)
            own.writeImmutableBuffer(joined)
            joined = own
            owned = true
        }
        // Taken out of `gathered` first, so the append finds one reference and never copies.
        joined.writeImmutableBuffer(frame)
        gathered = joined
        return nil
    }

    /// Everything gathered, leaving nothing behind.
    mutating func take() -> ByteBuffer? {
        defer {
            gathered = nil
            owned = false
        }
        return gathered
    }
}
