import NIOCore

/// Compresses ready WebSocket frames for connections that negotiated permessage-deflate
/// (RFC 7692). Core only holds the seam: the transport brings the zlib behind it, so the
/// hub never links a compression library.
public protocol FrameCompressor: Sendable {
    /// The frames `frames` holds back to back, each data frame large enough to be worth it
    /// compressed as one message (RSV1 set) without context takeover, for a client whose
    /// window is `windowBits`. Returns `frames` itself when nothing was compressed, so a
    /// run of small messages keeps sharing the plain buffer. Called on `loop`, one of the
    /// hub's loops: implementations keep their zlib streams per loop.
    func compress(_ frames: ByteBuffer, windowBits: Int, on loop: any EventLoop) -> ByteBuffer
}
