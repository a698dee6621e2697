import NIOConcurrencyHelpers
import NIOCore

/// The compressed twins of one event's frame, made on first need and then shared: every
/// connection that negotiated the same window gets the same buffer, whichever loop it is
/// on, so an event is compressed once however many subscribers it has.
///
/// The lock is held while compressing, so a second loop asking for the same window waits
/// for the first one's buffer (tens of microseconds) instead of compressing it again.
public final class CompressedFrames: Sendable {
    private let compressor: any FrameCompressor
    /// Indexed by window bits minus 8 (RFC 7692 allows 8 to 15).
    private let frames = NIOLockedValueBox<[ByteBuffer?]>(Array(repeating: nil, count: 8))

    public init(compressor: any FrameCompressor) {
        self.compressor = compressor
    }

    /// `plain` compressed for a client window of `windowBits` (clamped to 8...15).
    public func frame(for plain: ByteBuffer, windowBits: Int, on loop: any EventLoop) -> ByteBuffer {
        let bits = min(max(windowBits, 8), 15)
        return frames.withLockedValue { frames in
            if let made = frames[bits - 8] { return made }
            let made = compressor.compress(plain, windowBits: bits, on: loop)
            frames[bits - 8] = made
            return made
        }
    }
}
