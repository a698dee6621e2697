import NIOCore

/// Builds complete, unmasked server-to-client WebSocket frames (RFC 6455 §5.2): text frames
/// around a JSON payload, and the control frames (close, ping, pong). The hub encodes each
/// event once into such a frame and hands the same buffer to every recipient, so the
/// transport writes it as-is.
public enum OutboundFrame {
    private static let allocator = ByteBufferAllocator()

    public static func make(_ payload: [UInt8]) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: payload.count + 10)
        writeHeader(opcode: 0x1, length: payload.count, into: &buffer)
        buffer.writeBytes(payload)
        return buffer
    }

    /// A frame for any opcode (close, ping, pong) with a payload under 126 bytes or not.
    public static func make(opcode: UInt8, payload: [UInt8]) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: payload.count + 10)
        writeHeader(opcode: opcode, length: payload.count, into: &buffer)
        buffer.writeBytes(payload)
        return buffer
    }

    /// A close frame: the code, then the reason cut to fit the 125-byte control-frame limit
    /// at a character boundary (a reason cut inside a character would be invalid UTF-8).
    public static func close(code: UInt16, reason: String = "") -> ByteBuffer {
        var payload = [UInt8(code >> 8), UInt8(code & 0xff)]
        var reasonBytes = 0
        for character in reason {
            let size = character.utf8.count
            guard reasonBytes + size <= 123 else { break }
            payload.append(contentsOf: character.utf8)
            reasonBytes += size
        }
        return make(opcode: 0x8, payload: payload)
    }

    /// The payloads of the unmasked frames `buffer` holds back to back (one event, or a
    /// run that `FanoutEvent.coalesced` joined): a bus between nodes sends the JSON, not
    /// the framing. Stops at the first incomplete frame.
    public static func payloads(in buffer: ByteBuffer) -> [[UInt8]] {
        var buffer = buffer
        var payloads: [[UInt8]] = []
        // The first byte (FIN and opcode) says nothing the bus needs.
        while buffer.readInteger(as: UInt8.self) != nil, let second = buffer.readInteger(as: UInt8.self) {
            var length = Int(second & 0x7f)
            if length == 126 {
                guard let extended = buffer.readInteger(as: UInt16.self) else { break }
                length = Int(extended)
            } else if length == 127 {
                guard let extended = buffer.readInteger(as: UInt64.self), extended <= UInt64(Int.max) else { break }
                length = Int(extended)
            }
            guard let payload = buffer.readBytes(length: length) else { break }
            payloads.append(payload)
        }
        return payloads
    }

    /// A final frame's header. `compressed` sets RSV1, which marks a permessage-deflate
    /// message (RFC 7692 §6).
    public static func writeHeader(opcode: UInt8, length: Int, compressed: Bool = false, into buffer: inout ByteBuffer) {
        buffer.writeInteger(0x80 | (compressed ? 0x40 : 0) | opcode)
        if length < 126 {
            buffer.writeInteger(UInt8(length))
        } else if length <= Int(UInt16.max) {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
    }
}
