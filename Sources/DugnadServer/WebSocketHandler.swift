import DugnadCore
import DugnadProtocol
import Logging
import NIOCore
import NIOWebSocket

/// One WebSocket connection after the upgrade, and the only handler in its pipeline (after
/// TLS): cuts frames out of the bytes (`WebSocketFrameReader`), reassembles messages,
/// enforces the frame rules of section 1, authenticates (header, query or first frame),
/// then hands decoded commands to its `Session`. Confined to its event loop.
///
/// Outbound frames are encoded by the hub (`OutboundFrame`) and written as bytes, so that
/// one buffer serves every recipient.
final class WebSocketHandler: ChannelInboundHandler, ConnectionOutput, ConnectionTicker.Member {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingAuth
        case authenticating
        case active(Session)
        case closed
    }

    private let app: AppContext
    /// The `?token=` credential until it is verified, then dropped (no need to keep it).
    private var initialToken: String?
    private var state = State.awaitingAuth
    private var context: ChannelHandlerContext?
    /// Frames out of the received bytes, refused beyond `max_frame_bytes` (1009).
    private var frames: WebSocketFrameReader
    /// The frame rules (reassembly, size limit, UTF-8, control and close frames).
    private var assembler: WebSocketMessageAssembler
    /// Frames that arrive while the token is being verified (a client may send `join`
    /// right after the upgrade); bounded, beyond it the connection is closed.
    private var pendingWhileAuthenticating: [ByteBuffer] = []
    private var unansweredPings = 0
    private var outboundProgress = OutboundProgress()
    /// What the router and the session hand over until the next flush, joined into one
    /// write (every other write first writes this, so the order on the wire is kept).
    private var outbound = OutboundGather()
    /// The deadlines the loop's `ConnectionTicker` checks (no scheduled task per
    /// connection): uptime milliseconds for the next ping and the end of the time allowed
    /// to authenticate, wall-clock milliseconds for the token's warning and end (`exp` is
    /// wall-clock time). `Int64.max` when none.
    private var pingDueAt = Int64.max
    private var authDeadline = Int64.max
    private var expiryWarningAt = Int64.max
    private var expiresAt = Int64.max
    private var ticker: ConnectionTicker?
    var tickerSlot = -1
    /// After our close frame: the client's close frame (or this timer) ends the TCP
    /// connection, so the close frame is never cut off by a reset.
    private var closeTimer: Scheduled<Void>?
    private var closeSent = false
    private let decoder: CommandDecoder
    var userID = ""
    var needsFlush = false
    /// The window our compressed frames must fit (from the permessage-deflate agreement);
    /// nil: this connection gets plain frames.
    let deflateWindowBits: Int?

    init(app: AppContext, initialToken: String?, deflate: DeflateAgreement? = nil) {
        self.app = app
        self.initialToken = initialToken
        self.decoder = CommandDecoder(limits: app.configuration.hub.limits)
        self.deflateWindowBits = deflate?.serverMaxWindowBits
        self.frames = WebSocketFrameReader(maxFrameBytes: app.configuration.hub.limits.maxFrameBytes)
        self.assembler = WebSocketMessageAssembler(
            maxMessageBytes: app.configuration.hub.limits.maxFrameBytes, acceptsBinary: false,
            inflater: deflate.map { MessageInflater(resetsAfterMessage: $0.clientNoContextTakeover) })
        app.liveHandlers.withLockedValue { $0 += 1 }
    }

    deinit {
        app.liveHandlers.withLockedValue { $0 -= 1 }
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        app.connections.add(context.channel)
        let ticker = app.ticker(for: context.eventLoop)
        self.ticker = ticker
        ticker.add(self)
        let now = ticker.uptimeMillis
        pingDueAt = now + app.configuration.pingInterval * 1_000
        if let token = initialToken {
            initialToken = nil
            authenticate(token)
        } else {
            authDeadline = now + app.configuration.authTimeout * 1_000
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        teardown()
        closeTimer?.cancel()
        app.connections.remove(context.channel)
        context.fireChannelInactive()
    }

    /// Drops the stored contexts: a context holds its handler, so keeping them would make
    /// a cycle that outlives the connection (with its pipeline, channel and session).
    func handlerRemoved(context: ChannelHandlerContext) {
        teardown()
        closeTimer?.cancel()
        closeTimer = nil
        self.context = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ShutdownEvent {
            close(code: .goingAway, reason: "server shutting down")
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        app.logger.debug("websocket error: \(error)")
        teardown()
        context.close(promise: nil)
    }

    /// A frame the reader refused: answer with one close frame (unless ours is out already),
    /// then end the connection: the reader reads nothing more.
    private func refuse(_ frameError: NIOWebSocketError, context: ChannelHandlerContext) {
        app.logger.debug("websocket frame refused: \(frameError)")
        guard closeSent else {
            let code = WebSocketFrameReader.closeCode(for: frameError)
            return closeWith(OutboundFrame.close(code: code.rawValue, reason: "invalid frame"), thenClose: true)
        }
        teardown()
        context.close(promise: nil)
    }

    /// Ends the session and cancels every timer. The timers hold this handler strongly
    /// (a weak reference would give every handler a side table, which makes each retain on
    /// the fan-out path slower), so they must be cancelled here: `teardown` runs on every
    /// way out (close, error, channel inactive, handler removed).
    private func teardown() {
        if case .active(let session) = state { session.end() }
        state = .closed
        ticker?.remove(self)
        ticker = nil
        pendingWhileAuthenticating.removeAll()
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try frames.read(unwrapInboundIn(data)) { receive($0, context: context) }
        } catch {
            refuse(error, context: context)
        }
    }

    private func receive(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        if closeSent {
            if frame.opcode == .connectionClose { context.close(promise: nil) }
            return
        }
        if case .closed = state { return }
        // Any frame proves the peer alive, not only a pong: a client busy sending (or
        // whose pong waited behind its own messages) is not dead.
        unansweredPings = 0
        switch assembler.receive(frame) {
        case .text(let message):
            self.message(message)
        case .binary:
            // The assembler refuses binary frames for this handler; kept for completeness.
            close(code: .unsupportedData, reason: "binary frames are not supported")
        case .sendPong(var payload):
            send(OutboundFrame.make(opcode: 0xA, payload: payload.readBytes(length: payload.readableBytes) ?? []))
        case .pongReceived:
            unansweredPings = 0
        case .replyToClose(let code):
            // The client started the handshake: our answer completes it, so the connection
            // closes as soon as that answer is written.
            closeWith(OutboundFrame.close(code: code), thenClose: true)
        case .close(let code, let reason):
            close(code: code, reason: reason)
        case .ignore:
            break
        }
    }

    /// A complete text message, already checked by the assembler (size, UTF-8).
    private func message(_ buffer: ByteBuffer) {
        switch state {
        case .awaitingAuth:
            let decoded = decoder.decode(buffer.readableBytesView)
            guard case .success(.auth(let token)) = decoded.result else { return closeAuth(.missingToken) }
            guard let token, !token.isEmpty else { return closeAuth(.missingToken) }
            authDeadline = .max
            authenticate(token)
        case .authenticating:
            guard pendingWhileAuthenticating.count < 64 else {
                return close(code: .policyViolation, reason: "too many frames before authentication finished")
            }
            pendingWhileAuthenticating.append(buffer)
        case .active(let session):
            let decoded = decoder.decode(buffer.readableBytesView)
            switch decoded.result {
            case .success(let command):
                session.handle(ref: decoded.ref, command: command)
            case .failure(let error):
                if let ref = decoded.ref {
                    send(EventEncoding.errorReply(ref: ref, error: error))
                } else {
                    send(EventEncoding.errorEvent(error))
                }
            }
        case .closed:
            return
        }
    }

    // MARK: - Authentication

    private func authenticate(_ token: String) {
        guard let context else { return }
        state = .authenticating
        // The standing (ban, directory roles) is read with the session's opening: one read.
        app.authenticator.authenticate(token, on: context.eventLoop, readsStanding: false).assumeIsolated().whenSuccess {
            [self] result in
            guard case .authenticating = state else { return }
            switch result {
            case .failure(let failure):
                refuse(failure)
            case .success(let principal):
                open(principal)
            }
        }
    }

    private func refuse(_ failure: AuthFailure) {
        // The reason and the peer, never the credential itself.
        app.logger.info(
            "websocket credentials refused",
            metadata: ["reason": "\(failure.rawValue)", "peer": "\(context?.remoteAddress?.description ?? "?")"])
        closeAuth(failure)
    }

    private func open(_ principal: Principal) {
        guard let context else { return }
        guard app.hub.reserveConnection(of: principal.userID, limit: app.configuration.maxConnectionsPerUser) else {
            return close(code: .rateLimited, reason: "too_many_connections")
        }
        userID = principal.userID
        let server = ServerInfo(version: app.configuration.version, pingInterval: Int(app.configuration.pingInterval))
        Session.open(
            hub: app.hub, authenticator: app.authenticator, principal: principal, output: self,
            loop: context.eventLoop, server: server
        ).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .failure(let failure as AuthFailure):
                refuse(failure)
            case .failure(let error):
                app.logger.error("could not open session: \(error)")
                close(code: .internalError, reason: AuthFailure.storageUnavailable.rawValue)
            case .success(let session):
                guard case .authenticating = state else {
                    session.end()
                    return
                }
                state = .active(session)
                noteExpiry(principal)
                let pending = pendingWhileAuthenticating
                pendingWhileAuthenticating.removeAll()
                for buffer in pending { message(buffer) }
            }
        }
    }

    var session: Session? {
        if case .active(let session) = state { return session }
        return nil
    }

    func credentialsChanged(_ principal: Principal) {
        noteExpiry(principal)
    }

    /// The token's warning and end, for the ticker (none for a token without `exp`).
    private func noteExpiry(_ principal: Principal) {
        guard let exp = principal.expiresAt else {
            expiryWarningAt = .max
            expiresAt = .max
            return
        }
        expiryWarningAt = exp - 10_000
        expiresAt = exp
    }

    // MARK: - Deadlines

    /// Called by the loop's ticker: whatever deadline has passed is acted on.
    func tick(uptimeMillis: Int64, wallMillis: Int64) {
        if case .closed = state { return }
        if uptimeMillis >= authDeadline {
            authDeadline = .max
            if case .awaitingAuth = state { return closeAuth(.authTimeout) }
        }
        if case .active = state {
            if wallMillis >= expiresAt {
                expiresAt = .max
                return closeAuth(.tokenExpired)
            }
            if wallMillis >= expiryWarningAt {
                expiryWarningAt = .max
                send(EventEncoding.errorEvent(ProtocolError(.tokenExpiring, "the token expires in 10 seconds; send a refresh")))
            }
        }
        if uptimeMillis >= pingDueAt {
            pingDueAt = uptimeMillis + app.configuration.pingInterval * 1_000
            pingTick()
        }
    }

    private func closeAuth(_ failure: AuthFailure) {
        close(code: failure.closeCode, reason: failure.rawValue)
    }

    // MARK: - Outbound

    func enqueue(_ frame: ByteBuffer) {
        guard let context else { return }
        if case .closed = state { return }
        outboundProgress.noteEnqueued(frame.readableBytes)
        if let full = outbound.add(frame) {
            context.write(wrapOutboundOut(full), promise: nil)
        }
    }

    /// Hands what was gathered to the channel (not flushed).
    private func writeGathered() {
        guard let context, let gathered = outbound.take() else { return }
        context.write(wrapOutboundOut(gathered), promise: nil)
    }

    /// Flushes, then applies the slow-consumer policy: what the kernel could not take stays
    /// queued in NIO, and a connection whose queue is still over the limit (the channel's
    /// high watermark) after a flush is closed with 4008 rather than buffered without bound.
    func flush() {
        guard let context else { return }
        // What was gathered goes out with the flush in one pass through the pipeline.
        if let gathered = outbound.take() {
            context.writeAndFlush(wrapOutboundOut(gathered), promise: nil)
        } else {
            context.flush()
        }
        if !context.channel.isWritable, case .active = state {
            app.hub.metrics.slowConsumerCloses.increment()
            close(code: .slowConsumer, reason: "outbound queue overflowed; reconnect and recover with since")
        }
    }

    /// A reply or an event for this connection alone: compressed here, since it goes
    /// through no event's shared cache.
    func send(_ frame: ByteBuffer) {
        if let deflateWindowBits, let compressor = app.compressor, let context {
            enqueue(compressor.compress(frame, windowBits: deflateWindowBits, on: context.eventLoop))
        } else {
            enqueue(frame)
        }
        flush()
    }

    func close(code: CloseCode, reason: String) {
        closeWith(OutboundFrame.close(code: code.rawValue, reason: reason))
    }

    private func closeWith(_ closeFrame: ByteBuffer, thenClose: Bool = false) {
        guard let context, !closeSent else { return }
        writeGathered()
        teardown()
        closeSent = true
        let channel = context.channel
        let written = context.writeAndFlush(wrapOutboundOut(closeFrame))
        if thenClose {
            written.whenComplete { _ in channel.close(promise: nil) }
        }
        closeTimer = context.eventLoop.scheduleTask(in: .seconds(app.configuration.closeTimeoutSeconds)) {
            channel.close(promise: nil)
        }
    }

    private func pingTick() {
        if case .closed = state { return }
        let buffered = (try? context?.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        if outboundProgress.tick(bufferedNow: buffered) { unansweredPings = 0 }
        if unansweredPings >= 2 {
            return close(code: .goingAway, reason: "no answer to two pings")
        }
        // A ping counts as unanswered only once it is written: a ping still queued behind
        // fan-out when this hub is late has not been sent, and the peer cannot have
        // answered it (issue 14: answering clients were closed with 1001 under overload).
        guard let context else { return }
        writeGathered()
        context.writeAndFlush(wrapOutboundOut(OutboundFrame.make(opcode: 0x9, payload: []))).assumeIsolated().whenSuccess {
            [self] in
            unansweredPings += 1
        }
    }
}

@available(*, unavailable)
extension WebSocketHandler: Sendable {}

/// Fired on every WebSocket channel at shutdown: each closes with 1001.
struct ShutdownEvent: Sendable {}
