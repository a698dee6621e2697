import DugnadProtocol
import NIOCore
import NIOWebSocket

/// The RFC 6455 rules that sit above the frame reader, as a pure state machine: it
/// takes one decoded frame at a time and says what the connection should do. Both the hub's
/// `/ws` handler and the test-only echo handler drive one, so the echo endpoint that the
/// Autobahn suite checks runs exactly the frame logic that real clients meet.
///
/// `WebSocketFrameReader` already refuses frames over its size limit (1009) and
/// control frames that are fragmented or longer than 125 bytes (1002). It does not look at
/// the reserved bits, the opcode or the mask bit, and it knows nothing of messages; those
/// rules live here: reserved bits without a negotiated extension, reserved opcodes and
/// unmasked client frames fail with 1002, fragments are reassembled up to
/// `maxMessageBytes` (1009 beyond), text is checked for UTF-8 as it arrives so that an
/// invalid sequence fails at once with 1007, and close frames are validated before their
/// code is echoed.
///
/// With permessage-deflate negotiated (an `inflater`), RSV1 on a message's first frame
/// marks it compressed (RFC 7692 §6); RSV1 anywhere else, or without the extension, fails
/// with 1002. A compressed message is inflated fragment by fragment, its output held to
/// `maxMessageBytes` (1009 beyond, before the rest is inflated), and its text checked as
/// it comes out.
struct WebSocketMessageAssembler {
    enum Action: Equatable {
        /// A complete text message, valid UTF-8, at most `maxMessageBytes`.
        case text(ByteBuffer)
        /// A complete binary message (only when binary messages are accepted).
        case binary(ByteBuffer)
        /// Answer a ping: send a pong carrying this payload.
        case sendPong(ByteBuffer)
        /// The peer answered one of our pings.
        case pongReceived
        /// The peer sent a close frame: answer with a close frame carrying `code`, then end
        /// the TCP connection (the server closes it first, RFC 6455 §7.1.1). `code` echoes
        /// a valid code, is 1000 for an empty close and 1002 for a malformed one.
        case replyToClose(code: UInt16)
        /// Fail the connection: send a close frame with this code and reason, then wait
        /// for the peer's close frame.
        case close(CloseCode, reason: String)
        /// Nothing to do: a fragment was buffered, or the connection is closing.
        case ignore
    }

    private enum MessageKind {
        case text
        case binary
    }

    /// Largest message, the sum of its fragments.
    let maxMessageBytes: Int
    /// Whether binary messages are delivered; if not, the first binary frame closes with 1003.
    let acceptsBinary: Bool

    /// permessage-deflate's inflater when the extension was negotiated, else nil.
    let inflater: MessageInflater?

    private var kind: MessageKind?
    private var buffered: ByteBuffer?
    private var compressed = false
    private var utf8 = UTF8Validator()
    private var finished = false

    init(maxMessageBytes: Int, acceptsBinary: Bool, inflater: MessageInflater? = nil) {
        self.maxMessageBytes = maxMessageBytes
        self.acceptsBinary = acceptsBinary
        self.inflater = inflater
    }

    mutating func receive(_ frame: WebSocketFrame) -> Action {
        let action = decide(frame)
        switch action {
        case .close, .replyToClose:
            finished = true
            buffered = nil
            kind = nil
        case .text, .binary, .sendPong, .pongReceived, .ignore:
            break
        }
        return action
    }

    private mutating func decide(_ frame: WebSocketFrame) -> Action {
        if finished { return .ignore }
        // RFC 6455 §5.1: the server must fail the connection on an unmasked client frame.
        guard frame.maskKey != nil else { return .close(.protocolError, reason: "client frames must be masked") }
        // §5.2: a reserved bit no negotiated extension defines must be 0; permessage-deflate
        // defines RSV1, on the first frame of a data message only.
        guard !frame.rsv2, !frame.rsv3 else {
            return .close(.protocolError, reason: "reserved bits set without an extension")
        }
        if frame.rsv1 {
            guard inflater != nil else { return .close(.protocolError, reason: "reserved bits set without an extension") }
            guard frame.opcode == .text || frame.opcode == .binary else {
                return .close(.protocolError, reason: "RSV1 is only valid on the first frame of a message")
            }
        }
        switch frame.opcode {
        case .text, .binary:
            return start(frame)
        case .continuation:
            return proceed(frame)
        case .ping, .pong, .connectionClose:
            // The frame reader enforces these too; kept so the rule holds without it.
            guard frame.fin, frame.data.readableBytes <= 125 else {
                return .close(.protocolError, reason: "control frames must be final and at most 125 bytes")
            }
            if frame.opcode == .ping { return .sendPong(frame.unmaskedData) }
            if frame.opcode == .pong { return .pongReceived }
            return .replyToClose(code: Self.replyCode(toClosePayload: frame.unmaskedData))
        default:
            return .close(.protocolError, reason: "reserved opcode")
        }
    }

    private mutating func start(_ frame: WebSocketFrame) -> Action {
        guard kind == nil else { return .close(.protocolError, reason: "new message inside a fragmented message") }
        let kind: MessageKind = frame.opcode == .text ? .text : .binary
        guard kind == .text || acceptsBinary else { return .close(.unsupportedData, reason: "binary frames are not supported") }
        guard frame.data.readableBytes <= maxMessageBytes else { return tooBig() }
        utf8 = UTF8Validator()
        compressed = frame.rsv1
        var data = frame.unmaskedData
        if compressed {
            var message = ByteBuffer()
            if let failure = inflate(data, final: frame.fin, onto: &message) { return failure }
            data = message
        }
        if kind == .text, let failure = checkText(data, final: frame.fin) { return failure }
        if frame.fin { return deliver(data, as: kind) }
        self.kind = kind
        buffered = data
        return .ignore
    }

    /// Inflates a compressed message's fragment onto `message`; the failure to act on, if any.
    private func inflate(_ fragment: ByteBuffer, final: Bool, onto message: inout ByteBuffer) -> Action? {
        guard let inflater else { return .close(.protocolError, reason: "compressed frame without the extension") }
        do {
            try inflater.inflate(fragment, final: final, onto: &message, limit: maxMessageBytes)
            return nil
        } catch .tooBig {
            return tooBig()
        } catch {
            return .close(.invalidPayload, reason: "compressed message could not be inflated")
        }
    }

    private mutating func proceed(_ frame: WebSocketFrame) -> Action {
        // Taken out of `buffered` so that appending does not copy the whole message.
        guard let kind, var message = buffered.take() else {
            return .close(.protocolError, reason: "continuation without a message")
        }
        if compressed {
            // The inflater holds the output to the limit; the input may not pass it either.
            guard frame.data.readableBytes <= maxMessageBytes else { return tooBig() }
            let before = message.writerIndex
            if let failure = inflate(frame.unmaskedData, final: frame.fin, onto: &message) { return failure }
            let added = message.getSlice(at: before, length: message.writerIndex - before) ?? ByteBuffer()
            if kind == .text, let failure = checkText(added, final: frame.fin) { return failure }
        } else {
            guard message.readableBytes + frame.data.readableBytes <= maxMessageBytes else { return tooBig() }
            var data = frame.unmaskedData
            if kind == .text, let failure = checkText(data, final: frame.fin) { return failure }
            message.writeBuffer(&data)
        }
        if frame.fin {
            self.kind = nil
            return deliver(message, as: kind)
        }
        buffered = message
        return .ignore
    }

    /// Fails fast: an invalid sequence is reported on the fragment that contains it, and a
    /// message may not end inside a multi-byte character.
    private mutating func checkText(_ data: ByteBuffer, final: Bool) -> Action? {
        guard utf8.consume(data.readableBytesView), !final || utf8.isAtCharacterBoundary else {
            return .close(.invalidPayload, reason: "text frame is not valid UTF-8")
        }
        return nil
    }

    private func deliver(_ message: ByteBuffer, as kind: MessageKind) -> Action {
        kind == .text ? .text(message) : .binary(message)
    }

    private func tooBig() -> Action {
        .close(.messageTooBig, reason: "message larger than \(maxMessageBytes) bytes")
    }

    /// The code to answer a close frame with (RFC 6455 §5.5.1, §7.4): its own code when
    /// that is valid to send, 1000 when it carries none, and 1002 when it is malformed (one
    /// byte, a code that must not appear on the wire, or a reason that is not UTF-8).
    static func replyCode(toClosePayload payload: ByteBuffer) -> UInt16 {
        var payload = payload
        guard payload.readableBytes > 0 else { return CloseCode.normal.rawValue }
        guard let code = payload.readInteger(as: UInt16.self), isValidCloseCode(code) else {
            return CloseCode.protocolError.rawValue
        }
        var reason = UTF8Validator()
        guard reason.consume(payload.readableBytesView), reason.isAtCharacterBoundary else {
            return CloseCode.protocolError.rawValue
        }
        return code
    }

    /// Codes a peer may send: those defined by RFC 6455 and registered with IANA (1000–1003,
    /// 1007–1014) and the ranges for libraries and applications (3000–4999). 1004–1006 and
    /// 1015 are reserved or only reported locally; the rest below 3000 are unassigned.
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}

/// An incremental UTF-8 check (the WHATWG decoder's state machine): bytes can be fed in
/// any split, so a text message is checked fragment by fragment as it arrives. Rejects
/// overlong forms, surrogates and code points above U+10FFFF.
struct UTF8Validator {
    private var needed = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    /// True when the bytes so far end on a whole character.
    var isAtCharacterBoundary: Bool { needed == 0 }

    /// Feeds more bytes; false as soon as they cannot be UTF-8 whatever follows.
    mutating func consume(_ bytes: ByteBufferView) -> Bool {
        bytes.withContiguousStorageIfAvailable { consume($0) } ?? consume(Array(bytes)[...])
    }

    private mutating func consume<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        for byte in bytes {
            if needed == 0 {
                switch byte {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: needed = 1
                case 0xE0:
                    needed = 2
                    lower = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: needed = 2
                case 0xED:
                    needed = 2
                    upper = 0x9F
                case 0xF0:
                    needed = 3
                    lower = 0x90
                case 0xF1...0xF3: needed = 3
                case 0xF4:
                    needed = 3
                    upper = 0x8F
                default: return false
                }
            } else {
                guard byte >= lower, byte <= upper else { return false }
                lower = 0x80
                upper = 0xBF
                needed -= 1
            }
        }
        return true
    }
}

extension Optional {
    /// Returns the value and leaves nil behind, so the caller holds the only reference.
    fileprivate mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}
