import CompressNIO
import NIOCore
import NIOWebSocket

/// The last handler of an upgraded client pipeline: turns decoded frames into
/// ``WebSocketClientEvent``s, reassembles fragmented messages, answers pings and close frames, and
/// fails the connection when the server breaks RFC 6455.
///
/// It sits after NIO's `WebSocketFrameDecoder`, and outbound frames written through the channel
/// pass through it on their way to NIO's `WebSocketFrameEncoder`, which lets it notice close frames
/// that the application sends. All its own state is confined to the event loop.
final class WebSocketClientFrameHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let shared: WebSocketClientSharedState
    private let autoPong: Bool
    private let maxMessageSize: Int
    /// permessage-deflate was agreed: RSV1 marks a compressed message's first frame.
    private let inflates: Bool
    private var fragmentsCompressed = false

    /// Opcode (text or binary) of the fragmented message being reassembled, if any.
    private var fragmentedOpcode: WebSocketOpcode?
    private var fragments: [UInt8] = []
    /// Set when the client has failed the connection; later frames are ignored because the
    /// connection is being torn down and they would only produce confusing events.
    private var failed = false

    init(shared: WebSocketClientSharedState, autoPong: Bool, maxMessageSize: Int, inflates: Bool = false) {
        self.shared = shared
        self.autoPong = autoPong
        self.maxMessageSize = maxMessageSize
        self.inflates = inflates
    }

    func handlerAdded(context: ChannelHandlerContext) {
        shared.attach(channel: context.channel)
        // The connection may have closed while the upgrade was still completing.
        if !context.channel.isActive {
            shared.markDisconnected()
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !failed else { return }

        // RFC 6455 §5.2: reserved bits must be clear, but for RSV1 on a data message's first
        // frame when permessage-deflate was agreed (RFC 7692 §6).
        let compressedStart = inflates && frame.reservedBits == .rsv1 && (frame.opcode == .text || frame.opcode == .binary)
        guard frame.reservedBits.isEmpty || compressedStart else {
            return fail(context, code: WebSocketClosePayload.protocolError, "server frame has RSV bits set")
        }
        // RFC 6455 §5.1: a client must fail the connection on a masked server frame.
        guard frame.maskKey == nil else {
            return fail(context, code: WebSocketClosePayload.protocolError, "server frame is masked")
        }

        switch frame.opcode {
        case .text, .binary:
            guard fragmentedOpcode == nil else {
                return fail(
                    context,
                    code: WebSocketClosePayload.protocolError,
                    "new \(frame.opcode) frame while a fragmented message is incomplete"
                )
            }
            if frame.fin {
                deliverMessage(context, opcode: frame.opcode, payload: bytes(of: frame), compressed: compressedStart)
            } else {
                fragmentedOpcode = frame.opcode
                fragmentsCompressed = compressedStart
                fragments = bytes(of: frame)
            }
        case .continuation:
            guard let opcode = fragmentedOpcode else {
                return fail(
                    context,
                    code: WebSocketClosePayload.protocolError,
                    "continuation frame without a message to continue"
                )
            }
            let payload = frame.data.readableBytesView
            guard fragments.count + payload.count <= maxMessageSize else {
                return fail(
                    context,
                    code: WebSocketClosePayload.messageTooBig,
                    "reassembled message exceeds \(maxMessageSize) bytes"
                )
            }
            fragments.append(contentsOf: payload)
            if frame.fin {
                let message = fragments
                fragmentedOpcode = nil
                fragments = []
                deliverMessage(context, opcode: opcode, payload: message, compressed: fragmentsCompressed)
            }
        case .ping:
            let payload = bytes(of: frame)
            // Pong first, so that by the time a test reads the `.ping` event the pong is on the wire.
            // No pong after our close frame: RFC 6455 §5.5.1 says nothing may follow it.
            if autoPong && !shared.closeFrameSent {
                writeFrame(context, opcode: .pong, payload: payload)
            }
            emit(context, .ping(payload))
        case .pong:
            emit(context, .pong(bytes(of: frame)))
        case .connectionClose:
            receivedClose(context, payload: bytes(of: frame))
        default:
            fail(context, code: WebSocketClosePayload.protocolError, "unknown opcode \(frame.opcode)")
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        shared.markDisconnected()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Decoder errors mean the server's bytes are not valid WebSocket framing; I/O errors mean
        // the socket is unusable. Either way the connection cannot continue.
        let code: UInt16
        if let wsError = error as? NIOWebSocketError, wsError == .invalidFrameLength {
            code = WebSocketClosePayload.messageTooBig
        } else {
            code = WebSocketClosePayload.protocolError
        }
        fail(context, code: code, "\(error)")
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Track close frames sent by the application so we neither send a second one when the
        // server answers, nor pong after it.
        if unwrapOutboundIn(data).opcode == .connectionClose {
            shared.noteCloseFrameSent()
        }
        context.write(data, promise: promise)
    }

    // MARK: Helpers

    private func bytes(of frame: WebSocketFrame) -> [UInt8] {
        Array(frame.data.readableBytesView)
    }

    private func deliverMessage(
        _ context: ChannelHandlerContext, opcode: WebSocketOpcode, payload: [UInt8], compressed: Bool = false
    ) {
        var payload = payload
        if compressed {
            // RFC 7692 §7.2.2: put back the stripped tail, then inflate (bounded).
            var input = ByteBuffer(bytes: payload + [0x00, 0x00, 0xFF, 0xFF])
            guard let inflated = try? input.decompress(with: .deflate, maxSize: maxMessageSize) else {
                return fail(context, code: WebSocketClosePayload.invalidPayloadData, "compressed message did not inflate")
            }
            payload = Array(inflated.readableBytesView)
            shared.noteCompressedMessage()
        }
        if opcode == .text {
            // RFC 6455 §8.1: text must be valid UTF-8; a lenient decode would hide server bugs.
            guard let text = String(validating: payload, as: UTF8.self) else {
                return fail(context, code: WebSocketClosePayload.invalidPayloadData, "text message is not valid UTF-8")
            }
            emit(context, .text(text))
        } else {
            emit(context, .binary(payload))
        }
    }

    private func receivedClose(_ context: ChannelHandlerContext, payload: [UInt8]) {
        let (code, reason, malformed) = WebSocketClosePayload.decode(payload)
        emit(context, .close(code: code, reason: reason))
        if malformed {
            shared.recordConnectionError("server close frame is malformed")
        }
        guard !shared.closeFrameSent else { return }
        // Complete the closing handshake (RFC 6455 §5.5.1) by echoing the code. The server is the
        // one that closes TCP (§7.1.1), so we leave the socket open and report `.disconnected` then.
        let reply: [UInt8]
        if malformed {
            reply = WebSocketClosePayload.encode(code: WebSocketClosePayload.protocolError, reason: "")
        } else if let code {
            reply = WebSocketClosePayload.encode(code: code, reason: "")
        } else {
            reply = []
        }
        writeFrame(context, opcode: .connectionClose, payload: reply)
    }

    private func emit(_ context: ChannelHandlerContext, _ event: WebSocketClientEvent) {
        if shared.push(event) {
            shared.applyReadState(to: context.channel)
        }
    }

    /// Writes a masked frame directly towards the encoder (skipping this handler's `write`).
    private func writeFrame(_ context: ChannelHandlerContext, opcode: WebSocketOpcode, payload: [UInt8]) {
        if opcode == .connectionClose {
            shared.noteCloseFrameSent()
        }
        var buffer = context.channel.allocator.buffer(capacity: payload.count)
        buffer.writeBytes(payload)
        let frame = WebSocketFrame(fin: true, opcode: opcode, maskKey: .random(), data: buffer)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    /// Fails the WebSocket connection (RFC 6455 §7.1.7): records why, sends a close frame with
    /// `code` if none was sent yet, and closes TCP once that frame is written.
    private func fail(_ context: ChannelHandlerContext, code: UInt16, _ reason: String) {
        guard !failed else { return }
        failed = true
        shared.recordConnectionError(reason)
        guard context.channel.isActive else { return }
        guard !shared.closeFrameSent else {
            context.close(promise: nil)
            return
        }
        shared.noteCloseFrameSent()
        var buffer = context.channel.allocator.buffer(capacity: 2)
        buffer.writeBytes(WebSocketClosePayload.encode(code: code, reason: ""))
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: buffer)
        context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
