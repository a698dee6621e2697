/// Encoding and decoding of close-frame bodies (RFC 6455 §5.5.1): an optional big-endian status
/// code followed by an optional UTF-8 reason.
enum WebSocketClosePayload {
    /// Status codes the client itself uses when it fails a connection (RFC 6455 §7.4.1).
    static let normalClosure: UInt16 = 1000
    static let protocolError: UInt16 = 1002
    static let invalidPayloadData: UInt16 = 1007
    static let messageTooBig: UInt16 = 1009

    /// The body of a close frame carrying `code` and `reason`.
    static func encode(code: UInt16, reason: String) -> [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8)
    }

    /// Splits a received close body into code and reason. A body of exactly one byte cannot be
    /// valid (the code needs two), so it is reported as malformed rather than guessed at.
    static func decode(_ bytes: [UInt8]) -> (code: UInt16?, reason: String, malformed: Bool) {
        switch bytes.count {
        case 0:
            return (nil, "", false)
        case 1:
            return (nil, "", true)
        default:
            let code = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
            let reasonBytes = bytes[2...]
            if let reason = String(validating: reasonBytes, as: UTF8.self) {
                return (code, reason, false)
            }
            // Keep the readable part for diagnostics, but flag the invalid UTF-8 (§5.5.1 requires it).
            return (code, String(decoding: reasonBytes, as: UTF8.self), true)
        }
    }
}
