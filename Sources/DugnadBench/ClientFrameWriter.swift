import NIOCore

/// Builds the masked client-to-server frames (RFC 6455 §5.3) the bench sends, writing the
/// payload first and the header in front of it, so each frame is one allocation and one copy.
///
/// Mask keys come from a per-connection xorshift generator seeded from the system generator:
/// unpredictable enough for masking's purpose (proxy cache poisoning), without a system call
/// per frame.
struct ClientFrameWriter {
    /// Room kept in front of the payload for the largest header: 2 + 8 length bytes + 4 mask bytes.
    private static let headerRoom = 14
    private var state: UInt64

    init() {
        var generator = SystemRandomNumberGenerator()
        state = generator.next() | 1
    }

    /// A final frame of `opcode` whose payload `writePayload` appends to the buffer it is given.
    mutating func frame(
        opcode: UInt8, capacity: Int, allocator: ByteBufferAllocator, writePayload: (inout ByteBuffer) -> Void
    ) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: capacity + Self.headerRoom)
        buffer.writeRepeatingByte(0, count: Self.headerRoom)
        writePayload(&buffer)
        let length = buffer.writerIndex - Self.headerRoom
        let headerSize = (length < 126 ? 2 : length <= Int(UInt16.max) ? 4 : 10) + 4
        var index = Self.headerRoom - headerSize
        buffer.moveReaderIndex(to: index)
        buffer.setInteger(0x80 | opcode, at: index)
        index += 1
        if length < 126 {
            buffer.setInteger(0x80 | UInt8(length), at: index)
            index += 1
        } else if length <= Int(UInt16.max) {
            buffer.setInteger(UInt8(0x80 | 126), at: index)
            buffer.setInteger(UInt16(length), at: index + 1)
            index += 3
        } else {
            buffer.setInteger(UInt8(0x80 | 127), at: index)
            buffer.setInteger(UInt64(length), at: index + 1)
            index += 9
        }
        let key = nextKey()
        buffer.setInteger(key, at: index)
        Self.applyMask(key, to: &buffer, skipping: headerSize)
        return buffer
    }

    /// A final frame whose payload is `bytes` (close, pong, setup commands).
    mutating func frame(opcode: UInt8, bytes: some Collection<UInt8>, allocator: ByteBufferAllocator) -> ByteBuffer {
        frame(opcode: opcode, capacity: bytes.count, allocator: allocator) { $0.writeBytes(bytes) }
    }

    private mutating func nextKey() -> UInt32 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt32(truncatingIfNeeded: state >> 16)
    }

    /// XORs the readable bytes after the first `skipping` with the mask key, which masks and
    /// unmasks alike. `key` is in network order: its high byte masks the first payload byte.
    static func applyMask(_ key: UInt32, to buffer: inout ByteBuffer, skipping: Int = 0) {
        let mask: (UInt8, UInt8, UInt8, UInt8) = (
            UInt8(truncatingIfNeeded: key >> 24), UInt8(truncatingIfNeeded: key >> 16),
            UInt8(truncatingIfNeeded: key >> 8), UInt8(truncatingIfNeeded: key)
        )
        buffer.withUnsafeMutableReadableBytes { raw in
            var index = skipping
            let end = raw.count
            while index + 4 <= end {
                raw[index] ^= mask.0
                raw[index + 1] ^= mask.1
                raw[index + 2] ^= mask.2
                raw[index + 3] ^= mask.3
                index += 4
            }
            var position = 0
            while index < end {
                switch position {
                case 0: raw[index] ^= mask.0
                case 1: raw[index] ^= mask.1
                default: raw[index] ^= mask.2
                }
                position += 1
                index += 1
            }
        }
    }
}
