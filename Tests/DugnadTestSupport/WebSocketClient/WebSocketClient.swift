import CompressNIO
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// A small WebSocket (RFC 6455) client on SwiftNIO, built for driving a server from tests and from
/// a load generator.
///
/// Besides well-formed traffic it can send deliberately broken traffic: unmasked frames, frames with
/// RSV1 set, arbitrary opcodes and fragmentation, and raw bytes that bypass framing altogether.
///
/// Received frames become ``WebSocketClientEvent``s in a buffer that ``receive(timeout:)`` drains.
/// Buffering policy: nothing is dropped. Past 1,000,000 buffered events the client stops reading
/// the socket (TCP back-pressure on the server) until the consumer has drained half of them.
///
/// All methods may be called from any task. `receive` is designed for one consumer at a time
/// (concurrent callers are served in call order).
public final class WebSocketClient: Sendable {
    /// Default for `connect(maxBufferedEvents:)`: generous, so that tests and the load generator
    /// only reach it if the consumer has stalled (each event is small: tens of MB at worst).
    public static let defaultMaxBufferedEvents = 1_000_000

    private let channel: any Channel
    private let shared: WebSocketClientSharedState

    /// The `Sec-WebSocket-Protocol` the server chose in its 101 response, or `nil` if it chose none.
    public let negotiatedSubprotocol: String?
    /// The `Sec-WebSocket-Extensions` of the server's 101 response, or `nil` without one.
    public let negotiatedExtensions: String?

    private init(
        channel: any Channel, shared: WebSocketClientSharedState, negotiatedSubprotocol: String?,
        negotiatedExtensions: String?
    ) {
        self.channel = channel
        self.shared = shared
        self.negotiatedSubprotocol = negotiatedSubprotocol
        self.negotiatedExtensions = negotiatedExtensions
    }

    /// Connects and performs the HTTP/1.1 upgrade.
    ///
    /// - Parameters:
    ///   - host: Host name or IP address to connect to; also used for the `Host` header.
    ///   - port: TCP port.
    ///   - path: Request target of the upgrade request, including any query string. Defaults to `/ws`.
    ///   - headers: Extra header fields for the upgrade request (e.g. `Authorization`, `Origin`), sent
    ///     in order. A `Host` field here replaces the default `host:port` one.
    ///   - subprotocols: Offered in `Sec-WebSocket-Protocol`, in preference order. Defaults to none
    ///     (no header). If the server selects a protocol that was not offered, the handshake fails.
    ///   - deflate: Offer permessage-deflate (RFC 7692) in `Sec-WebSocket-Extensions`. When the
    ///     server accepts, compressed messages (RSV1) are inflated before they become events, and
    ///     counted in ``compressedMessagesReceived``; ``sendText(_:)`` compresses too.
    ///   - autoPong: Whether to answer every ping with a pong carrying the same payload. Defaults to
    ///     `true`; turn it off to test how the server treats clients that never pong.
    ///   - maxFrameSize: Largest frame, and largest reassembled message, accepted from the server, in
    ///     bytes. Defaults to 16 MiB, comfortably above anything a hub should send. Larger input fails
    ///     the connection with close code 1009.
    ///   - tls: A client TLS context for `wss://` (its handshake, with `serverHostname` for SNI and
    ///     the host-name check, comes before the upgrade). Defaults to `nil`: plain `ws://`.
    ///   - serverHostname: The name the server's certificate must carry. Defaults to `nil`.
    ///   - eventLoopGroup: Where the connection runs. Defaults to NIO's shared singleton group.
    ///   - handshakeTimeout: Bound on the TCP connect and, separately, on the HTTP upgrade exchange.
    ///     Defaults to 30 seconds, generous for a busy CI machine (tests that want a timeout pass
    ///     their own).
    ///   - maxBufferedEvents: Soft bound on events buffered but not yet received. When reached, the
    ///     client stops reading the socket (nothing is dropped) until half of them have been
    ///     received. Defaults to 1,000,000, which only a stalled consumer ever reaches.
    /// - Throws: ``WebSocketUpgradeFailed`` when the server answers with anything but 101,
    ///   ``WebSocketHandshakeError`` for an invalid 101 response, ``WebSocketClientTimeout`` when
    ///   the server does not answer in time, or NIO's connect errors.
    public static func connect(
        host: String,
        port: Int,
        path: String = "/ws",
        headers: [(String, String)] = [],
        subprotocols: [String] = [],
        deflate: Bool = false,
        autoPong: Bool = true,
        maxFrameSize: Int = 1 << 24,
        tls: NIOSSLContext? = nil,
        serverHostname: String? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        handshakeTimeout: Duration = .seconds(30),
        maxBufferedEvents: Int = WebSocketClient.defaultMaxBufferedEvents
    ) async throws -> WebSocketClient {
        precondition(maxFrameSize > 0 && maxFrameSize <= Int(UInt32.max), "maxFrameSize must be in 1...UInt32.max")
        precondition(maxBufferedEvents >= 2, "maxBufferedEvents must be at least 2")

        let eventLoop = eventLoopGroup.next()
        let shared = WebSocketClientSharedState(eventLimit: maxBufferedEvents)
        // Completed with the negotiated subprotocol by the upgrade callback, or failed by the
        // handshake handler / timeout. Double completion is harmless (NIO ignores the second one).
        let handshakePromise = eventLoop.makePromise(of: String?.self)
        let extensions = NIOLockedValueBox<String?>(nil)
        let requestHead = makeRequestHead(
            host: host,
            port: port,
            path: path,
            headers: headers + (deflate ? [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")] : []),
            subprotocols: subprotocols
        )

        let upgrader = NIOWebSocketClientUpgrader(
            maxFrameSize: maxFrameSize,
            // We report protocol errors ourselves (see WebSocketClientFrameHandler) so they become
            // visible through `connectionError` instead of being answered silently.
            automaticErrorHandling: false
        ) { channel, response in
            let result = Result<String?, any Error> {
                let operations = channel.pipeline.syncOperations
                // The handshake handler only understands HTTP, so it must leave before NIO replays
                // any bytes that followed the 101 into the pipeline as WebSocket data.
                let handshakeContext = try operations.context(handlerType: WebSocketHandshakeHandler.self)
                operations.removeHandler(context: handshakeContext, promise: nil)
                let selected = response.headers.first(name: "Sec-WebSocket-Protocol")
                if let selected, !subprotocols.contains(selected) {
                    throw WebSocketHandshakeError(
                        reason: "server selected subprotocol \"\(selected)\" that was not offered"
                    )
                }
                let agreed = response.headers.first(name: "Sec-WebSocket-Extensions")
                if let agreed, !deflate || !agreed.lowercased().hasPrefix("permessage-deflate") {
                    throw WebSocketHandshakeError(reason: "server chose extension \"\(agreed)\" that was not offered")
                }
                extensions.withLockedValue { $0 = agreed }
                try operations.addHandler(
                    WebSocketClientFrameHandler(
                        shared: shared, autoPong: autoPong, maxMessageSize: maxFrameSize, inflates: agreed != nil)
                )
                return selected
            }
            handshakePromise.completeWith(result)
            if case .failure = result {
                channel.close(promise: nil)
            }
            return channel.eventLoop.makeSucceededVoidFuture()
        }

        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(handshakeTimeout))
            // Tests and the load generator send many small frames and measure latency; Nagle would
            // add delay for no benefit.
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    if let tls {
                        try operations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    }
                    try operations.addHTTPClientHandlers(
                        // Frames the server sends right behind its 101 may share a TCP segment with
                        // it; they must be handed to the WebSocket decoder, not dropped.
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                    try operations.addHandler(
                        WebSocketHandshakeHandler(requestHead: requestHead, promise: handshakePromise)
                    )
                }
            }

        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            handshakePromise.fail(error)
            throw error
        }
        // Covers connections torn down without the frame handler seeing `channelInactive`.
        channel.closeFuture.whenComplete { _ in shared.markDisconnected() }

        let timer = eventLoop.scheduleTask(in: TimeAmount(handshakeTimeout)) {
            handshakePromise.fail(WebSocketClientTimeout())
        }
        do {
            let subprotocol = try await handshakePromise.futureResult.get()
            timer.cancel()
            return WebSocketClient(
                channel: channel, shared: shared, negotiatedSubprotocol: subprotocol,
                negotiatedExtensions: extensions.withLockedValue { $0 })
        } catch {
            timer.cancel()
            channel.close(promise: nil)
            throw error
        }
    }

    private static func makeRequestHead(
        host: String,
        port: Int,
        path: String,
        headers: [(String, String)],
        subprotocols: [String]
    ) -> HTTPRequestHead {
        var fields = HTTPHeaders()
        if !headers.contains(where: { $0.0.lowercased() == "host" }) {
            // IPv6 literals need brackets in Host (RFC 7230 §5.4).
            let hostPart = host.contains(":") ? "[\(host)]" : host
            fields.add(name: "Host", value: "\(hostPart):\(port)")
        }
        for (name, value) in headers {
            fields.add(name: name, value: value)
        }
        if !subprotocols.isEmpty {
            fields.add(name: "Sec-WebSocket-Protocol", value: subprotocols.joined(separator: ", "))
        }
        return HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: fields)
    }

    // MARK: - State

    /// True once the TCP connection is gone (closed by either side or failed).
    public var isClosed: Bool { shared.isClosed }

    /// Messages that arrived compressed (permessage-deflate), so far.
    public var compressedMessagesReceived: Int { shared.compressedMessages }

    /// Why the connection failed, if it did: a protocol violation by the server that made the client
    /// fail the connection (RFC 6455 §7.1.7, e.g. invalid UTF-8 or a masked server frame), or a
    /// socket error. `nil` for connections that ended normally or are still open.
    public var connectionError: String? { shared.connectionError }

    /// Number of events buffered and not yet returned by ``receive(timeout:)``.
    public var bufferedEventCount: Int { shared.bufferedEventCount }

    // MARK: - Sending

    /// Sends `text` as a single, final, masked text frame.
    /// With permessage-deflate agreed, a text of 64 bytes or more goes compressed (RSV1), each
    /// message on its own (a fresh stream: no context carried over, which any server reads).
    public func sendText(_ text: String) async throws {
        let bytes = Array(text.utf8)
        guard negotiatedExtensions != nil, bytes.count >= 64 else { return try await send(opcode: .text, payload: bytes) }
        let compressor = try ZlibCompressor(algorithm: .deflate)
        var input = ByteBuffer(bytes: bytes)
        var output = ByteBuffer()
        output.reserveCapacity(compressor.maxSize(from: input))
        try compressor.deflate(from: &input, to: &output, flush: .sync)
        // RFC 7692 §7.2.1: the sync flush's `00 00 ff ff` tail is not sent.
        try await send(opcode: .text, payload: Array(output.readableBytesView.dropLast(4)), rsv1: true)
    }

    /// Sends one frame, masked with a random key as RFC 6455 requires of clients (unless
    /// `mask: false`, for testing server rejection).
    ///
    /// Nothing is validated, so any combination can be sent: control frames over 125 bytes or with
    /// `fin: false`, reserved opcodes, fragments in any order.
    ///
    /// - Parameters:
    ///   - opcode: Frame opcode; use `.continuation` for the non-first fragments of a message.
    ///   - payload: Application data, unmasked; masking is applied on the way out.
    ///   - fin: Whether this is the final fragment of its message. Defaults to `true`.
    ///   - mask: Whether to mask the frame. Defaults to `true` as RFC 6455 §5.3 requires.
    ///   - rsv1: Value of the RSV1 bit (used by permessage-deflate). Defaults to `false`.
    /// - Throws: NIO's channel errors, e.g. when the connection is closed.
    public func send(
        opcode: WebSocketOpcode,
        payload: [UInt8],
        fin: Bool = true,
        mask: Bool = true,
        rsv1: Bool = false
    ) async throws {
        var buffer = channel.allocator.buffer(capacity: payload.count)
        buffer.writeBytes(payload)
        let frame = WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, maskKey: mask ? .random() : nil, data: buffer)
        try await channel.writeAndFlush(frame)
    }

    /// Writes bytes to the socket bypassing all framing (to send malformed frames, or partial ones).
    ///
    /// Ordering with ``send(opcode:payload:fin:mask:rsv1:)`` is preserved: both are written in call
    /// order from the event loop.
    public func sendRaw(_ bytes: [UInt8]) async throws {
        let channel = self.channel
        try await channel.eventLoop.flatSubmit {
            do {
                var buffer = channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                // Writing from the encoder's own context sends the bytes to the handlers *before*
                // it (i.e. straight to the socket), so the encoder never sees them.
                let encoderContext = try channel.pipeline.syncOperations.context(
                    handlerType: WebSocketFrameEncoder.self
                )
                return encoderContext.writeAndFlush(NIOAny(buffer))
            } catch {
                // The pipeline is torn down once the channel closes.
                return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
            }
        }.get()
    }

    // MARK: - Receiving

    /// Next event, in arrival order; throws ``WebSocketClientTimeout`` after `timeout`.
    ///
    /// After the connection has closed and all buffered events have been read, returns
    /// `.disconnected` immediately on every call rather than waiting out the timeout.
    ///
    /// - Parameter timeout: How long to wait for an event. Defaults to 30 seconds: a test waits for
    ///   an event it needs, and CI runs on a machine that may be far busier than ours (5 seconds
    ///   was missed there); a missing message still fails the test within the bound.
    /// - Throws: ``WebSocketClientTimeout``, or `CancellationError` if the task is cancelled.
    public func receive(timeout: Duration = .seconds(30)) async throws -> WebSocketClientEvent {
        try await shared.next(timeout: timeout, eventLoop: channel.eventLoop)
    }

    /// Convenience: next text frame, skipping ping/pong events.
    ///
    /// - Parameter timeout: Overall deadline for the text message, across all skipped events.
    ///   Defaults to 30 seconds, as for ``receive(timeout:)``.
    /// - Throws: ``WebSocketClientClosed`` if a close frame or disconnect comes first,
    ///   ``WebSocketClientUnexpectedEvent`` if a binary message comes first, or
    ///   ``WebSocketClientTimeout``.
    public func receiveText(timeout: Duration = .seconds(30)) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            // A non-positive remaining time still returns an already-buffered event.
            let remaining = max(clock.now.duration(to: deadline), .zero)
            switch try await receive(timeout: remaining) {
            case .text(let text):
                return text
            case .ping, .pong:
                continue
            case .close(let code, let reason):
                throw WebSocketClientClosed(code: code, reason: reason, receivedCloseFrame: true)
            case .disconnected:
                throw WebSocketClientClosed(code: nil, reason: "", receivedCloseFrame: false)
            case .binary(let bytes):
                throw WebSocketClientUnexpectedEvent(event: .binary(bytes))
            }
        }
    }

    // MARK: - Closing

    /// Sends a close frame (code, reason) and waits (bounded) for the TCP close.
    ///
    /// The close frame is skipped if one was already sent (by ``send(opcode:payload:fin:mask:rsv1:)``
    /// or in reply to the server's close). Per RFC 6455 §7.1.1 the server is expected to close TCP;
    /// if it has not done so within `timeout`, the client closes the socket itself. The server's
    /// close frame and the final `.disconnected` remain readable with ``receive(timeout:)``.
    ///
    /// - Parameters:
    ///   - code: Status code for the close frame. Defaults to 1000 (normal closure).
    ///   - reason: UTF-8 reason text; keep it under 124 bytes to stay within a control frame.
    ///     Defaults to empty.
    ///   - timeout: How long to wait for the server to close TCP. Defaults to 5 seconds.
    public func close(code: UInt16 = 1000, reason: String = "", timeout: Duration = .seconds(5)) async {
        let channel = self.channel
        let shared = self.shared
        let payload = WebSocketClosePayload.encode(code: code, reason: reason)
        // Check-and-send on the event loop, where the frame handler also replies to server closes,
        // so the two can never both send a close frame.
        let sent = channel.eventLoop.flatSubmit {
            guard channel.isActive, !shared.closeFrameSent else {
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            var buffer = channel.allocator.buffer(capacity: payload.count)
            buffer.writeBytes(payload)
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: buffer)
            return channel.writeAndFlush(frame)
        }
        // A failed write means the connection is already going away; waiting below still applies.
        try? await sent.get()

        let forceClose = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            channel.close(promise: nil)
        }
        try? await channel.closeFuture.get()
        forceClose.cancel()
    }

    // MARK: - Flow control

    /// Stops reading from the socket (autoRead off), so that the server's send queue for this
    /// client fills, as with a slow consumer. Events already buffered can still be received.
    /// Returns once reading is off.
    public func pauseReading() async {
        shared.setUserPausedReading(true)
        await applyReadState()
    }

    /// Starts reading from the socket again after ``pauseReading()``. Reading stays off while the
    /// event buffer is over its limit, and resumes automatically once it drains.
    public func resumeReading() async {
        shared.setUserPausedReading(false)
        await applyReadState()
    }

    private func applyReadState() async {
        let channel = self.channel
        let shared = self.shared
        try? await channel.eventLoop.submit { shared.applyReadState(to: channel) }.get()
    }
}
