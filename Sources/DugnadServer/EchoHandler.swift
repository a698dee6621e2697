import DugnadCore
import DugnadProtocol
import NIOCore
import NIOWebSocket

/// The test-only echo endpoint (`ServerConfiguration.echoPath`, off by default): every
/// complete text or binary message is sent back as it came. No authentication, no hub.
/// It exists so that the Autobahn|Testsuite can check the frame layer, and so it runs the
/// same `WebSocketMessageAssembler` as `WebSocketHandler`; only binary messages differ
/// (echoed here, refused with 1003 on `/ws`). Like `WebSocketHandler`, it is the only
/// handler after the upgrade and reads its frames itself (`WebSocketFrameReader`), so the
/// Autobahn suite checks that reader too. Confined to its event loop.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Largest echoed message: 16 MiB, the largest message the Autobahn suite sends
    /// (cases 9.1.6 and 9.2.6), and the largest frame its reader takes; `/ws` keeps its own,
    /// smaller limit.
    static let maxMessageBytes = 1 << 24

    private let app: AppContext
    private var frames = WebSocketFrameReader(maxFrameBytes: EchoHandler.maxMessageBytes)
    private var assembler: WebSocketMessageAssembler
    /// The window for compressed echoes; nil without permessage-deflate.
    private let deflateWindowBits: Int?
    private var context: ChannelHandlerContext?
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
        context.close(promise: nil)
    }

    /// A frame the reader refused: one close frame (unless ours is out already), then the
    /// end of the connection, since the reader reads nothing more.
    private func refuse(_ frameError: NIOWebSocketError, context: ChannelHandlerContext) {
        app.logger.debug("echo websocket frame refused: \(frameError)")
        guard !closeSent else {
            context.close(promise: nil)
            return
        }
        closeSent = true
        let code = WebSocketFrameReader.closeCode(for: frameError)
        context.writeAndFlush(wrapOutboundOut(OutboundFrame.close(code: code.rawValue)))
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try frames.read(unwrapInboundIn(data)) { receive($0, context: context) }
        } catch {
            refuse(error, context: context)
        }
    }

    private func receive(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
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
            closeSent = true
            // The peer started the handshake: our answer completes it, and then the server
            // ends the TCP connection first (RFC 6455 §7.1.1).
            context.writeAndFlush(wrapOutboundOut(OutboundFrame.close(code: code)))
                .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            scheduleCloseTimer()
        case .close(let code, let reason):
            fail(code: code, reason: reason)
        }
    }

    private func write(opcode: UInt8, _ payload: ByteBuffer) {
        guard let context else { return }
        var frame = OutboundFrame.make(opcode: opcode, payload: Array(payload.readableBytesView))
        if let deflateWindowBits, let compressor = app.compressor {
            frame = compressor.compress(frame, windowBits: deflateWindowBits, on: context.eventLoop)
        }
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    private func fail(code: CloseCode, reason: String) {
        guard let context, !closeSent else { return }
        closeSent = true
        context.writeAndFlush(wrapOutboundOut(OutboundFrame.close(code: code.rawValue, reason: reason)), promise: nil)
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
