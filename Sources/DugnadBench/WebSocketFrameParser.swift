import NIOCore

/// Splits what a server sends into WebSocket frames (RFC 6455 §5.2) without copying: each
/// frame's payload is a slice of the buffer it arrived in. Pure, so it is tested without
/// sockets; ``BenchConnectionHandler`` feeds it.
struct WebSocketFrameParser {
    /// One frame off the wire.
    struct Frame {
        var fin: Bool
        var opcode: UInt8
        /// RSV1: the first frame of a permessage-deflate message (only when `allowsCompression`).
        var compressed = false
        /// Unmasked payload (a server never masks, but a masked frame is unmasked here anyway).
        var payload: ByteBuffer
    }

    /// The server broke the framing rules; the connection cannot continue.
    struct Violation: Error, CustomStringConvertible {
        var description: String
    }

    static let continuation: UInt8 = 0x0
    static let text: UInt8 = 0x1
    static let binary: UInt8 = 0x2
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA

    /// Largest frame accepted: 16 MiB, far above the hub's 64 KiB, so only a broken server hits it.
    var maxPayload = 1 << 24
    /// permessage-deflate was agreed: RSV1 is allowed.
    var allowsCompression = false

    /// The next complete frame, consuming it from `buffer`; nil (and nothing consumed) when
    /// the buffer holds only part of one.
    func next(from buffer: inout ByteBuffer) throws(Violation) -> Frame? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }
        guard first & (allowsCompression ? 0x30 : 0x70) == 0 else {
            throw Violation(description: "reserved bits set in a frame")
        }
        let masked = second & 0x80 != 0
        var length = Int(second & 0x7F)
        var offset = start + 2
        if length == 126 {
            guard let extended = buffer.getInteger(at: offset, as: UInt16.self) else { return nil }
            length = Int(extended)
            offset += 2
        } else if length == 127 {
            guard let extended = buffer.getInteger(at: offset, as: UInt64.self) else { return nil }
            guard extended <= UInt64(maxPayload) else { throw Violation(description: "frame of \(extended) bytes") }
            length = Int(extended)
            offset += 8
        }
        guard length <= maxPayload else { throw Violation(description: "frame of \(length) bytes") }
        var maskKey: UInt32 = 0
        if masked {
            guard let key = buffer.getInteger(at: offset, as: UInt32.self) else { return nil }
            maskKey = key
            offset += 4
        }
        guard offset + length <= buffer.writerIndex else { return nil }
        buffer.moveReaderIndex(to: offset)
        guard var payload = buffer.readSlice(length: length) else { return nil }
        if masked { ClientFrameWriter.applyMask(maskKey, to: &payload) }
        return Frame(fin: first & 0x80 != 0, opcode: first & 0x0F, compressed: first & 0x40 != 0, payload: payload)
    }
}
