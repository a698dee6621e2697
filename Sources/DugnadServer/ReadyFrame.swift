import NIOCore

/// One unmasked server frame read back out of a buffer of ready frames (what the hub
/// encodes once per event), so that the deflate compressor can rewrite its payload.
struct ReadyFrame {
    var fin: Bool
    var opcode: UInt8
    var payload: ByteBuffer

    /// Reads one frame and moves past it; nil (and `buffer` unspecified) when incomplete.
    static func read(from buffer: inout ByteBuffer) -> ReadyFrame? {
        guard let first = buffer.readInteger(as: UInt8.self), let second = buffer.readInteger(as: UInt8.self) else {
            return nil
        }
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let extended = buffer.readInteger(as: UInt16.self) else { return nil }
            length = Int(extended)
        } else if length == 127 {
            guard let extended = buffer.readInteger(as: UInt64.self), extended <= UInt64(Int.max) else { return nil }
            length = Int(extended)
        }
        guard let payload = buffer.readSlice(length: length) else { return nil }
        return ReadyFrame(fin: first & 0x80 != 0, opcode: first & 0x0F, payload: payload)
    }
}
