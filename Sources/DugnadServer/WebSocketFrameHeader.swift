import NIOCore
import NIOWebSocket

/// A frame's header read in place (nothing consumed): its first byte, its payload length,
/// its masking key, and how many bytes the header takes.
struct WebSocketFrameHeader {
    let firstByte: UInt8
    let length: Int
    let maskKey: WebSocketMaskingKey?
    let byteCount: Int

    /// Nil while the header is incomplete. Throws as soon as the length is known and breaks
    /// a limit, even if the masking key has not arrived yet (as NIO's `WSParser` does).
    init?(at buffer: ByteBuffer, maxFrameBytes: Int) throws(NIOWebSocketError) {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self),
            let second = buffer.getInteger(at: start + 1, as: UInt8.self)
        else { return nil }
        var byteCount = 2
        let length: Int
        switch second & 0x7F {
        case 126:
            guard let word = buffer.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(word)
            byteCount = 4
        case 127:
            guard let quad = buffer.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            guard quad <= UInt64(Int.max) else { throw .invalidFrameLength }
            length = Int(quad)
            byteCount = 10
        default:
            length = Int(second & 0x7F)
        }
        if length > maxFrameBytes { throw .invalidFrameLength }
        let isControl = first & 0x08 != 0
        if isControl, first & 0x80 == 0 { throw .fragmentedControlFrame }
        if isControl, length > 125 { throw .multiByteControlFrameLength }
        var maskKey: WebSocketMaskingKey?
        if second & 0x80 != 0 {
            guard let key = buffer.getBytes(at: start + byteCount, length: 4) else { return nil }
            maskKey = WebSocketMaskingKey(key)
            byteCount += 4
        }
        self.firstByte = first
        self.length = length
        self.maskKey = maskKey
        self.byteCount = byteCount
    }
}
