import DugnadTestSupport
import NIOCore
// NIOHTTP1 is not a declared dependency of this test target, but it is built as a dependency of
// NIOWebSocket and DugnadServer, so it is importable; the echo server needs its HTTP pipeline.
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Testing

/// Tests of `DugnadClient.WebSocketClient` against a tiny in-process echo server, so that the live
/// server tests can trust the client they are driven by.
@Suite("WebSocketClient self-tests")
struct WebSocketClientSelfTests {
    // MARK: Basics

    @Test func textRoundTrip() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            #expect(client.negotiatedSubprotocol == nil)
            try await client.sendText("hello")
            #expect(try await client.receiveText() == "hello")
            try await client.sendText("héllo ✓ 🚀")
            #expect(try await client.receive() == .text("héllo ✓ 🚀"))
            try await client.send(opcode: .binary, payload: [0, 1, 2, 255])
            #expect(try await client.receive() == .binary([0, 1, 2, 255]))
            await client.close()
        }
    }

    @Test func framesRightBehindThe101AreNotLost() async throws {
        // The canned server sends the 101 and two frames in one write, so they reach the client in
        // one read: the frames must be handed on to the WebSocket decoder, not dropped with the
        // HTTP decoder. (Unmasked server text frames "hi" and "there".)
        let frames: [UInt8] = [0x81, 2] + Array("hi".utf8) + [0x81, 5] + Array("there".utf8)
        try await withCannedServer(respond: { switchingProtocolsResponse(to: $0, trailing: frames) }) { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            #expect(try await client.receive() == .text("hi"))
            #expect(try await client.receive() == .text("there"))
        }
    }

    @Test func sha1AndBase64HelpersMatchRFC6455Example() {
        // RFC 6455 §1.3: this key must produce this accept value.
        let accept = base64(sha1(Array("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11".utf8)))
        #expect(accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func connectionRefusedThrows() async throws {
        var closedPort = 0
        try await withCannedServer(response: nil) { port in closedPort = port }
        await #expect(throws: (any Error).self) {
            _ = try await WebSocketClient.connect(host: "127.0.0.1", port: closedPort)
        }
    }

    @Test func customHeadersAreSent() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(
                host: "127.0.0.1", port: port, headers: [("Authorization", "Bearer t0k3n"), ("Origin", "http://test")]
            )
            try await client.sendText("cmd:header:Authorization")
            #expect(try await client.receiveText() == "Bearer t0k3n")
            try await client.sendText("cmd:header:Origin")
            #expect(try await client.receiveText() == "http://test")
            await client.close()
        }
    }

    // MARK: Fragmentation

    @Test func serverFragmentedMessageIsReassembledAroundInterleavedPing() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            try await client.sendText("cmd:fragments")
            // The ping sits between fragments, so it is reported before the completed message;
            // the automatic pong makes the server report "pong:p" afterwards.
            #expect(try await client.receive() == .ping(Array("p".utf8)))
            #expect(try await client.receive() == .text("Hello, world"))
            #expect(try await client.receive() == .text("pong:p"))
            await client.close()
        }
    }

    @Test func clientFragmentsAreEchoedAndReassembled() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            try await client.send(opcode: .text, payload: Array("ab".utf8), fin: false)
            try await client.send(opcode: .continuation, payload: Array("cd".utf8), fin: false)
            try await client.send(opcode: .continuation, payload: Array("ef".utf8))
            #expect(try await client.receive() == .text("abcdef"))

            try await client.send(opcode: .binary, payload: [1, 2], fin: false)
            try await client.send(opcode: .continuation, payload: [3])
            #expect(try await client.receive() == .binary([1, 2, 3]))
            await client.close()
        }
    }

    // MARK: Handshake

    @Test func subprotocolNegotiation() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(
                host: "127.0.0.1", port: port, subprotocols: ["x-unknown", "dugnad.v1"]
            )
            #expect(client.negotiatedSubprotocol == "dugnad.v1")
            try await client.sendText("ok")
            #expect(try await client.receiveText() == "ok")
            await client.close()
        }
    }

    @Test func unsupportedSubprotocolYieldsUpgradeFailed400() async throws {
        try await withEchoServer { port in
            let error = await #expect(throws: WebSocketUpgradeFailed.self) {
                _ = try await WebSocketClient.connect(host: "127.0.0.1", port: port, subprotocols: ["nope"])
            }
            #expect(error?.status == 400)
            #expect(error?.body == "no supported subprotocol")
            #expect(error?.header("content-type") == "text/plain")
        }
    }

    @Test func wrongAcceptKeyIsRejected() async throws {
        let response =
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n"
        try await withCannedServer(response: response) { port in
            let error = await #expect(throws: WebSocketHandshakeError.self) {
                _ = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            }
            #expect(error?.reason.contains("Sec-WebSocket-Accept") == true)
        }
    }

    @Test func silentServerTimesOutHandshake() async throws {
        // Two seconds: the same bound covers the TCP connect, which on a loaded machine once
        // took longer than 300 ms to be noticed (the test wants the upgrade to time out).
        try await withCannedServer(response: nil) { port in
            await #expect(throws: WebSocketClientTimeout.self) {
                _ = try await WebSocketClient.connect(host: "127.0.0.1", port: port, handshakeTimeout: .seconds(2))
            }
        }
    }

    // MARK: Close

    @Test func clientInitiatedCloseHandshake() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            await client.close(code: 1000, reason: "done")
            #expect(client.isClosed)
            // The echo server answers with the same code and reason, then closes TCP.
            #expect(try await client.receive() == .close(code: 1000, reason: "done"))
            #expect(try await client.receive() == .disconnected)
            // Terminal state: no waiting for events that cannot come.
            #expect(try await client.receive(timeout: .seconds(30)) == .disconnected)
            await #expect(throws: (any Error).self) { try await client.sendText("too late") }
        }
    }

    @Test func serverInitiatedCloseHandshake() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            try await client.sendText("cmd:close")
            #expect(try await client.receive() == .close(code: 1000, reason: "server bye"))
            // The server only closes TCP after our automatic close reply arrives.
            #expect(try await client.receive() == .disconnected)
            #expect(client.isClosed)
            #expect(client.connectionError == nil)
        }
    }

    @Test func receiveTextThrowsOnClose() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            try await client.sendText("cmd:close")
            await #expect(throws: WebSocketClientClosed(code: 1000, reason: "server bye")) {
                _ = try await client.receiveText()
            }
            await #expect(throws: WebSocketClientClosed(code: nil, reason: "", receivedCloseFrame: false)) {
                _ = try await client.receiveText()
            }
        }
    }

    @Test func unmaskedFrameIsRejectedByServer() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            try await client.send(opcode: .text, payload: Array("naked".utf8), mask: false)
            #expect(try await client.receive() == .close(code: 1002, reason: "protocol error"))
            #expect(try await client.receive() == .disconnected)
        }
    }

    @Test func oversizedFrameFromServerFailsTheConnection() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port, maxFrameSize: 100)
            try await client.sendText("cmd:burst:1:1000")
            #expect(try await client.receive() == .disconnected)
            #expect(client.connectionError != nil)
        }
    }

    @Test func invalidUTF8FromServerFailsTheConnection() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            try await client.sendText("cmd:bad-utf8")
            #expect(try await client.receive() == .disconnected)
            #expect(client.connectionError?.contains("UTF-8") == true)
        }
    }

    // MARK: Timeouts, control frames, raw bytes

    @Test func receiveTimeoutThrows() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            let clock = ContinuousClock()
            let start = clock.now
            await #expect(throws: WebSocketClientTimeout.self) {
                _ = try await client.receive(timeout: .milliseconds(150))
            }
            #expect(clock.now - start >= .milliseconds(140))
            // The connection is still usable after a timeout.
            try await client.sendText("still here")
            #expect(try await client.receiveText() == "still here")
            await client.close()
        }
    }

    @Test func receiveIsCancellable() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            let task = Task { try await client.receive(timeout: .seconds(30)) }
            try await Task.sleep(for: .milliseconds(50))
            task.cancel()
            await #expect(throws: CancellationError.self) { _ = try await task.value }
            await client.close()
        }
    }

    @Test func pingPong() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            try await client.send(opcode: .ping, payload: [1, 2, 3])
            #expect(try await client.receive() == .pong([1, 2, 3]))
            try await client.sendText("cmd:ping")
            #expect(try await client.receive() == .ping(Array("are-you-there".utf8)))
            #expect(try await client.receiveText() == "pong:are-you-there")
            await client.close()
        }
    }

    @Test func autoPongCanBeDisabled() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port, autoPong: false)
            try await client.sendText("cmd:ping")
            #expect(try await client.receive() == .ping(Array("are-you-there".utf8)))
            await #expect(throws: WebSocketClientTimeout.self) {
                _ = try await client.receive(timeout: .milliseconds(200))
            }
            await client.close()
        }
    }

    @Test func rawBytesBypassFraming() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            // A hand-built masked text frame "raw", written in two pieces to also exercise the
            // server reassembling a frame split across writes.
            let key: [UInt8] = [0x11, 0x22, 0x33, 0x44]
            let masked = Array("raw".utf8).enumerated().map { $0.element ^ key[$0.offset % 4] }
            let frame: [UInt8] = [0x81, 0x80 | 3] + key + masked
            try await client.sendRaw(Array(frame.prefix(4)))
            try await client.sendRaw(Array(frame.dropFirst(4)))
            #expect(try await client.receive() == .text("raw"))
            // Framed and raw sends interleave in call order.
            try await client.sendText("after")
            #expect(try await client.receive() == .text("after"))
            await client.close()
        }
    }

    @Test func pauseAndResumeReading() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port)
            await client.pauseReading()
            try await client.sendText("cmd:burst:200")
            try await Task.sleep(for: .milliseconds(300))
            #expect(client.bufferedEventCount == 0)
            await client.resumeReading()
            for index in 0..<200 {
                #expect(try await client.receive() == .text("m\(index)"))
            }
            await client.close()
        }
    }

    @Test func fullEventBufferPausesReadingWithoutLosingEvents() async throws {
        try await withEchoServer { port in
            let client = try await WebSocketClient.connect(host: "127.0.0.1", port: port, maxBufferedEvents: 10)
            let padding = String(repeating: "x", count: 10_000)
            // 2 MB in 200 messages: far more than one socket read, so the limit has to bite.
            try await client.sendText("cmd:burst:200:10000")
            // Wait (bounded) for the buffer to fill, then give the client time it would need to
            // read everything if the limit did not stop it.
            let deadline = ContinuousClock.now + .seconds(30)
            while client.bufferedEventCount < 10 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            try await Task.sleep(for: .milliseconds(300))
            let buffered = client.bufferedEventCount
            #expect(buffered >= 10)
            // Overshoot is at most one socket read loop's worth of 10 kB messages.
            #expect(buffered < 200)
            for index in 0..<200 {
                #expect(try await client.receive() == .text("m\(index)\(padding)"))
            }
            await client.close()
        }
    }
}

// MARK: - Test servers

/// Runs `body` with an echo WebSocket server listening on 127.0.0.1 and an ephemeral port.
private func withEchoServer(_ body: (Int) async throws -> Void) async throws {
    let upgrader = NIOWebSocketServerUpgrader(
        maxFrameSize: 1 << 20,
        // The echo handler answers protocol errors itself, with a reason the tests can check.
        automaticErrorHandling: false,
        shouldUpgrade: { channel, head in
            var responseHeaders = HTTPHeaders()
            let offered = head.headers[canonicalForm: "Sec-WebSocket-Protocol"].map(String.init)
            if !offered.isEmpty {
                // Like the Dugnad server: an offer with no supported protocol is refused (-> 400).
                guard let chosen = offered.first(where: { $0 == "dugnad.v1" }) else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                responseHeaders.add(name: "Sec-WebSocket-Protocol", value: chosen)
            }
            return channel.eventLoop.makeSucceededFuture(responseHeaders)
        },
        upgradePipelineHandler: { channel, head in
            channel.eventLoop.makeCompletedFuture {
                let operations = channel.pipeline.syncOperations
                // The rejection handler only makes sense for HTTP; frames must not reach it.
                let rejectContext = try operations.context(handlerType: EchoServerRejectHandler.self)
                operations.removeHandler(context: rejectContext, promise: nil)
                try operations.addHandler(EchoServerHandler(requestHead: head))
            }
        }
    )
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                    withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                )
                try channel.pipeline.syncOperations.addHandler(EchoServerRejectHandler())
            }
        }
        .bind(host: "127.0.0.1", port: 0)
        .get()
    do {
        try await body(try #require(server.localAddress?.port))
    } catch {
        try? await server.close()
        throw error
    }
    try await server.close()
}

/// Runs `body` with a raw TCP server that answers the first bytes it receives with `response`
/// verbatim (or never answers, if `response` is nil), to produce broken handshakes.
private func withCannedServer(response: String?, _ body: (Int) async throws -> Void) async throws {
    try await withCannedServer(respond: { _ in response.map { Array($0.utf8) } }, body)
}

/// Runs `body` with a raw TCP server that answers the complete request head it receives with
/// `respond(requestHead)`, written in a single write (or never answers, if that returns nil).
private func withCannedServer(
    respond: @escaping @Sendable (String) -> [UInt8]?,
    _ body: (Int) async throws -> Void
) async throws {
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(CannedResponseHandler(respond: respond))
            }
        }
        .bind(host: "127.0.0.1", port: 0)
        .get()
    do {
        try await body(try #require(server.localAddress?.port))
    } catch {
        try? await server.close()
        throw error
    }
    try await server.close()
}

/// Answers HTTP requests that were not upgraded: the only reason in this server is an offer of
/// subprotocols none of which is supported.
private final class EchoServerRejectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        let body = "no supported subprotocol"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

/// Echo WebSocket handler: echoes data frames frame-by-frame (so fragments come back as
/// fragments), answers pings, completes close handshakes, and understands a few `cmd:` text
/// messages that make it send specific traffic.
private final class EchoServerHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let requestHead: HTTPRequestHead
    private var closeSent = false

    init(requestHead: HTTPRequestHead) {
        self.requestHead = requestHead
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        // RFC 6455 §5.1: the server must close on unmasked client frames.
        guard frame.maskKey != nil, frame.reservedBits.isEmpty else {
            return closeWithProtocolError(context)
        }
        let payload = frame.unmaskedData

        switch frame.opcode {
        case .connectionClose:
            if closeSent {
                // The client answered our close: the handshake is complete, the server closes TCP.
                context.close(promise: nil)
            } else {
                closeSent = true
                send(context, opcode: .connectionClose, payload).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            }
        case .ping:
            _ = send(context, opcode: .pong, payload)
        case .pong:
            _ = send(context, opcode: .text, context.channel.allocator.buffer(string: "pong:\(String(buffer: payload))"))
        case .text where frame.fin && String(buffer: payload).hasPrefix("cmd:"):
            runCommand(context, String(String(buffer: payload).dropFirst(4)))
        default:
            _ = send(context, opcode: frame.opcode, payload, fin: frame.fin)
        }
    }

    private func runCommand(_ context: ChannelHandlerContext, _ command: String) {
        let allocator = context.channel.allocator
        if command == "fragments" {
            _ = send(context, opcode: .text, allocator.buffer(string: "Hel"), fin: false)
            _ = send(context, opcode: .ping, allocator.buffer(string: "p"))
            _ = send(context, opcode: .continuation, allocator.buffer(string: "lo, "), fin: false)
            _ = send(context, opcode: .continuation, allocator.buffer(string: "world"))
        } else if command == "close" {
            closeSent = true
            var body = allocator.buffer(capacity: 12)
            body.writeInteger(UInt16(1000))
            body.writeString("server bye")
            _ = send(context, opcode: .connectionClose, body)
        } else if command == "ping" {
            _ = send(context, opcode: .ping, allocator.buffer(string: "are-you-there"))
        } else if command == "bad-utf8" {
            _ = send(context, opcode: .text, allocator.buffer(bytes: [0x61, 0xC3, 0x28]))
        } else if command.hasPrefix("header:") {
            let value = requestHead.headers.first(name: String(command.dropFirst(7))) ?? "<missing>"
            _ = send(context, opcode: .text, allocator.buffer(string: value))
        } else if command.hasPrefix("burst:") {
            // burst:<count>[:<padding>] sends texts "m0", "m1", ..., each followed by <padding> x's.
            let fields = command.split(separator: ":").dropFirst().compactMap { Int($0) }
            let count = fields.first ?? 0
            let padding = String(repeating: "x", count: fields.dropFirst().first ?? 0)
            for index in 0..<count {
                let frame = WebSocketFrame(fin: true, opcode: .text, data: allocator.buffer(string: "m\(index)\(padding)"))
                context.write(wrapOutboundOut(frame), promise: nil)
            }
            context.flush()
        }
    }

    private func closeWithProtocolError(_ context: ChannelHandlerContext) {
        guard !closeSent else { return context.close(promise: nil) }
        closeSent = true
        var body = context.channel.allocator.buffer(capacity: 16)
        body.writeInteger(UInt16(1002))
        body.writeString("protocol error")
        send(context, opcode: .connectionClose, body).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    @discardableResult
    private func send(
        _ context: ChannelHandlerContext,
        opcode: WebSocketOpcode,
        _ payload: ByteBuffer,
        fin: Bool = true
    ) -> EventLoopFuture<Void> {
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: fin, opcode: opcode, data: payload)))
    }
}

/// Collects the request head, then writes whatever `respond` makes of it, in one write.
private final class CannedResponseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let respond: @Sendable (String) -> [UInt8]?
    private var request = ""
    private var answered = false

    init(respond: @escaping @Sendable (String) -> [UInt8]?) {
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        request += String(buffer: unwrapInboundIn(data))
        guard request.contains("\r\n\r\n") else { return }
        answered = true
        if let response = respond(request) {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: response)), promise: nil)
        }
    }
}

/// A correct 101 for `request` with `trailing` bytes appended in the same write.
private func switchingProtocolsResponse(to request: String, trailing: [UInt8]) -> [UInt8] {
    let keyLine = request.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-key:") }
    let key = keyLine.map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: " ") } ?? ""
    let accept = base64(sha1(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)))
    let head =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: \(accept)\r\n\r\n"
    return Array(head.utf8) + trailing
}

extension Substring {
    fileprivate func trimmingCharacters(in characters: String) -> String {
        String(drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed())
    }
}

/// SHA-1 (FIPS 180-4), only to compute Sec-WebSocket-Accept in the canned server above; the
/// test target has no crypto dependency and NIO's implementation is internal.
private func sha1(_ message: [UInt8]) -> [UInt8] {
    var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
    var padded = message + [0x80]
    while padded.count % 64 != 56 { padded.append(0) }
    let bitLength = UInt64(message.count) * 8
    padded += (0..<8).map { UInt8(truncatingIfNeeded: bitLength >> (56 - 8 * UInt64($0))) }
    for chunkStart in stride(from: 0, to: padded.count, by: 64) {
        var w = (0..<16).map { i in
            padded[chunkStart + 4 * i..<chunkStart + 4 * i + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        for i in 16..<80 {
            let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
            w.append(x << 1 | x >> 31)
        }
        var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
        for i in 0..<80 {
            let (f, k): (UInt32, UInt32)
            switch i {
            case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
            case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
            case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
            default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
            }
            let temp = (a << 5 | a >> 27) &+ f &+ e &+ k &+ w[i]
            (e, d, c, b, a) = (d, c, b << 30 | b >> 2, a, temp)
        }
        h[0] &+= a
        h[1] &+= b
        h[2] &+= c
        h[3] &+= d
        h[4] &+= e
    }
    return h.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (24 - 8 * UInt32($0))) } }
}

private func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    var output = ""
    for start in stride(from: 0, to: bytes.count, by: 3) {
        let chunk = Array(bytes[start..<min(start + 3, bytes.count)])
        let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
        for i in 0..<4 {
            output.append(i <= chunk.count ? alphabet[Int(value >> (18 - 6 * UInt32(i)) & 0x3F)] : "=")
        }
    }
    return output
}
