import DugnadCore
import DugnadProtocol
import NIOCore
import NIOWebSocket

/// The test-only echo endpoint (`ServerConfiguration.echoPath`, off by default): every
/// complete text or binary message is sent back as it came. No authentication, no hub.
/// It exists so that the Autobahn|Testsuite can check the frame layer, and so it runs the
/// same `WebSocketMessageAssembler` as `WebSocketHandler`; only binary messages differ
/// (echoed here, refused with 1003 on `/ws`). Confined to its event loop.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Largest echoed message: 16 MiB, the largest message the Autobahn suite sends
    /// (cases 9.1.6 and 9.2.6). The frame decoder's limit is raised to match while the
    /// echo endpoint is on; `/ws` still enforces its own, smaller limit per message.
    static let maxMessageBytes = 1 << 24

    private let app: AppContext
    private var assembler: WebSocketMessageAssembler
    /// The window for compressed echoes; nil without permessage-deflate.
    private let deflateWindowBits: Int?
    private var context: ChannelHandlerContext?
    private var rawContext: ChannelHandlerContext?
    private var closeSent = false
    private var closeTimer: Scheduled<Void>?

    init(app: AppContext, deflate: DeflateAgreement? = nil) {
        self.app = app
        self.deflateWindowBits = deflate?.serverMaxWindowBits
        self.assembler = WebSocketMessageAssembler(
            maxMessageBytes: EchoHandler.maxMessageBytes, acceptsBinary: true,
            inflater: deflate.map { MessageInflater(resetsAfterMessage: $0.clientNoContextTakeover) })
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        rawContext = try? context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        app.connections.add(context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closeTimer?.cancel()
        app.connections.remove(context.channel)
        context.fireChannelInactive()
    }

    /// Drops the stored contexts, which hold this handler (a cycle otherwise).
    func handlerRemoved(context: ChannelHandlerContext) {
        closeTimer?.cancel()
        closeTimer = nil
        self.context = nil
        rawContext = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ShutdownEvent {
            fail(code: .goingAway, reason: "server shutting down")
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        app.logger.debug("echo websocket error: \(error)")
        // A frame NIO's decoder refused: one close frame (unless ours is out already), then
        // the end of the connection, since the decoder reads nothing more.
        guard let frameError = error as? NIOWebSocketError, !closeSent, let rawContext else {
            context.close(promise: nil)
            return
        }
        closeSent = true
        let code: CloseCode = frameError == .invalidFrameLength ? .messageTooBig : .protocolError
        rawContext.writeAndFlush(
            NIOAny(OutboundFrame.close(code: code.rawValue))
        )
        .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if closeSent {
            // Our close frame is out; the peer's answer completes the handshake.
            if frame.opcode == .connectionClose { context.close(promise: nil) }
            return
        }
        switch assembler.receive(frame) {
        case .text(let message):
            write(opcode: 0x1, message)
        case .binary(let message):
            write(opcode: 0x2, message)
        case .sendPong(let payload):
            write(opcode: 0xA, payload)
        case .pongReceived, .ignore:
            break
        case .replyToClose(let code):
            guard let rawContext else { return }
            closeSent = true
            // The peer started the handshake: our answer completes it, and then the server
            // ends the TCP connection first (RFC 6455 §7.1.1).
            rawContext.writeAndFlush(NIOAny(OutboundFrame.close(code: code)))
                .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            scheduleCloseTimer()
        case .close(let code, let reason):
            fail(code: code, reason: reason)
        }
    }

    private func write(opcode: UInt8, _ payload: ByteBuffer) {
        guard let rawContext else { return }
        var frame = OutboundFrame.make(opcode: opcode, payload: Array(payload.readableBytesView))
        if let deflateWindowBits, let compressor = app.compressor {
            frame = compressor.compress(frame, windowBits: deflateWindowBits, on: rawContext.eventLoop)
        }
        rawContext.writeAndFlush(NIOAny(frame), promise: nil)
    }

    private func fail(code: CloseCode, reason: String) {
        guard let rawContext, !closeSent else { return }
        closeSent = true
        rawContext.writeAndFlush(NIOAny(OutboundFrame.close(code: code.rawValue, reason: reason)), promise: nil)
        scheduleCloseTimer()
    }

    /// A peer that never answers our close frame (or never reads) is cut off after the
    /// configured close timeout.
    private func scheduleCloseTimer() {
        guard let context else { return }
        let channel = context.channel
        closeTimer = context.eventLoop.scheduleTask(in: .seconds(app.configuration.closeTimeoutSeconds)) {
            channel.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension EchoHandler: Sendable {}
