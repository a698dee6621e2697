import DugnadProtocol
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import DugnadServer

/// Plain HTTP on an embedded channel with the server's own HTTP pipeline (NIO's codec and
/// error handler, the idle handler, our handler), bytes in as a client writes them: the
/// routes answered on the connection's loop, the body limit, keep-alive and
/// `Connection: close`, bad requests, and the idle timeout on virtual time.
@Suite struct HTTPHandlerTests {
    private static let peer = try! SocketAddress(ipAddress: "127.0.0.1", port: 40_000)

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// Passes on whatever reaches the end of the pipeline, to see what the handler forwards.
    final class EventRecorder: ChannelInboundHandler {
        typealias InboundIn = Never
        var events: [String] = []

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            events.append("\(event)")
        }
    }

    /// A connection with the server's HTTP pipeline (without the upgrade path, which
    /// `WebSocketHandlerTests` and the live tests cover).
    private func connect(_ app: AppContext, on loop: EmbeddedEventLoop) throws -> (EmbeddedChannel, EventRecorder) {
        let channel = EmbeddedChannel(loop: loop)
        channel.remoteAddress = Self.peer
        try channel.connect(to: Self.peer).wait()
        let recorder = EventRecorder()
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
        try channel.pipeline.syncOperations.addHandlers([
            IdleStateHandler(readTimeout: .seconds(app.configuration.httpIdleTimeoutSeconds)),
            HTTPHandler(app: app),
            recorder,
        ])
        return (channel, recorder)
    }

    private func send(_ request: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: request))
    }

    /// The responses written so far, in order.
    private func responses(_ channel: EmbeddedChannel) throws -> [Response] {
        var text = ""
        while let data = try channel.readOutbound(as: IOData.self) { text += try Self.string(data) }
        return try Self.parse(text)
    }

    private static func string(_ data: IOData) throws -> String {
        guard case .byteBuffer(let buffer) = data else { throw TestFailure("a file region in a response") }
        return String(buffer: buffer)
    }

    /// Complete responses, back to back (bodies by their content-length).
    private static func parse(_ text: String) throws -> [Response] {
        var responses: [Response] = []
        var rest = Substring(text)
        while let end = rest.range(of: "\r\n\r\n") {
            let lines = rest[..<end.lowerBound].split(separator: "\r\n")
            let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            guard let bodyEnd = rest.utf8.index(end.upperBound, offsetBy: length, limitedBy: rest.utf8.endIndex) else {
                throw TestFailure("an incomplete body")
            }
            responses.append(Response(status: status, headers: headers, body: String(rest[end.upperBound..<bodyEnd])))
            rest = rest[bodyEnd...]
        }
        if !rest.isEmpty { throw TestFailure("an incomplete response: \(rest)") }
        return responses
    }

    private func get(_ path: String, _ extraHeaders: String = "") -> String {
        "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(extraHeaders)\r\n"
    }

    // MARK: - Routes

    @Test func healthzIsAnsweredAndTheConnectionIsKeptForTheNextRequest() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let (channel, _) = try connect(app, on: loop)
            try send(get("/healthz"), to: channel)
            var answered = try responses(channel)
            #expect(answered.map(\.status) == [200])
            #expect(answered.first?.body == "ok\n")
            #expect(answered.first?.headers["content-type"] == "text/plain; charset=utf-8")
            #expect(answered.first?.headers["x-content-type-options"] == "nosniff")
            #expect(answered.first?.headers["connection"] == nil, "HTTP/1.1 keeps the connection by default")
            #expect(channel.isActive)

            try send("HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", to: channel)
            let head = try channel.readOutbound(as: IOData.self)
            guard case .byteBuffer(let buffer) = head else { throw TestFailure("no answer to HEAD") }
            let text = String(buffer: buffer)
            #expect(text.hasPrefix("HTTP/1.1 200"))
            #expect(text.contains("content-length: 3\r\n"), "the length of the body a GET would get")
            #expect(text.hasSuffix("\r\n\r\n"), "and no body")
            answered = try responses(channel)
            #expect(answered.allSatisfy { $0.body.isEmpty })
            #expect(channel.isActive)
        }
    }

    @Test func connectionCloseIsAnsweredWithConnectionCloseAndTheConnectionEnds() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let (channel, _) = try connect(app, on: loop)
            try send(get("/healthz", "Connection: close\r\n"), to: channel)
            let answered = try responses(channel)
            #expect(answered.map(\.status) == [200])
            #expect(answered.first?.headers["connection"] == "close")
            #expect(!channel.isActive)
        }
    }

    @Test func anHTTP10RequestWithoutKeepAliveEndsTheConnection() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let (channel, _) = try connect(app, on: loop)
            try send("GET /healthz HTTP/1.0\r\n\r\n", to: channel)
            #expect(try responses(channel).map(\.status) == [200])
            #expect(!channel.isActive)
        }
    }

    @Test func anUnknownRouteIs404AndTheConnectionStays() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let (channel, _) = try connect(app, on: loop)
            try send("DELETE /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", to: channel)
            let answered = try responses(channel)
            #expect(answered.map(\.status) == [404])
            #expect(answered.first?.headers["content-type"] == "application/json")
            let error = try JSONParser.parse(answered.first?.body ?? "")
            #expect(error.at("error", "code") == "not_found")
            #expect(error.at("error", "message") == "no route for DELETE /nowhere")
            #expect(channel.isActive)
        }
    }

    @Test func theWebSocketPathWithoutAnUpgradeIs400() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let (channel, _) = try connect(app, on: loop)
            try send(get("/ws"), to: channel)
            let answered = try responses(channel)
            #expect(answered.map(\.status) == [400])
            #expect(answered.first?.body.contains("this endpoint needs a WebSocket upgrade") == true)
        }
    }

    @Test func metricsAreServedInThePrometheusTextFormat() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let (channel, _) = try connect(app, on: loop)
            try send(get("/metrics"), to: channel)
            let answered = try responses(channel)
            #expect(answered.map(\.status) == [200])
            #expect(answered.first?.headers["content-type"] == "text/plain; version=0.0.4")
            #expect(answered.first?.body.contains("dugnad_connections") == true)
        }
    }

    // MARK: - Bodies

    @Test func aBodyOutsideTheAPIIsDroppedAsItComesAndTheRequestAnswered() async throws {
        // Only API routes take a body (their limit, 413, is proven live in
        // HardeningRoundTwoTests: admission needs the hub's token checks); elsewhere a body
        // of any size is read past and dropped, and the connection stays usable.
        try await HandlerHarness.withEmbeddedLoop(configure: { $0.maxHTTPBodyBytes = 16 }) { loop, app in
            let (channel, _) = try connect(app, on: loop)
            let overLimit = String(repeating: "a", count: 64)
            try send("POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 64\r\n\r\n\(overLimit)", to: channel)
            #expect(try responses(channel).map(\.status) == [404], "no route takes a POST there")
            #expect(channel.isActive)
            try send(get("/healthz"), to: channel)
            #expect(try responses(channel).map(\.status) == [200])
        }
    }

    @Test func aRequestNIOCannotParseIsAnswered400AndTheConnectionEnds() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let (channel, _) = try connect(app, on: loop)
            try send("NOT A REQUEST\r\n\r\n", to: channel)
            #expect(try responses(channel).map(\.status) == [400])
            #expect(!channel.isActive)
        }
    }

    // MARK: - The idle timeout

    // NIO's `IdleStateHandler` measures idleness with the process's clock, not the loop's,
    // so virtual time cannot make it fire: these tests send the event it sends.

    @Test func anIdleReadEventClosesAConnectionWithNothingInFlight() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let (channel, recorder) = try connect(app, on: loop)
            try send(get("/healthz"), to: channel)
            #expect(try responses(channel).map(\.status) == [200])
            channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
            #expect(!channel.isActive)
            #expect(try responses(channel).isEmpty, "closed without a word")
            #expect(recorder.events.isEmpty, "the idle event is the handler's own")
        }
    }

    @Test func otherEventsPassThroughAndDoNotClose() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let (channel, recorder) = try connect(app, on: loop)
            channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.write)
            channel.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
            channel.pipeline.fireUserInboundEventTriggered(ShutdownEvent())
            #expect(recorder.events.count == 3)
            #expect(channel.isActive)
        }
    }

    /// A response still on its way (a file read waiting for the file pool) is not cut off
    /// by the idle timeout; once it is out, the next idle event closes. On a thread-safe test
    /// loop, because the file is read on the pool and answered from there.
    @Test func anIdleReadEventWhileAResponseIsOnItsWayDoesNotCutItOff() async throws {
        let harness = try await HandlerHarness.start()
        let loop = NIOAsyncTestingEventLoop()
        let app = harness.makeApp(on: loop)
        let channel = NIOAsyncTestingChannel(loop: loop)
        try await loop.executeInContext {
            channel.remoteAddress = Self.peer
            channel.connect(to: Self.peer, promise: nil)
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try channel.pipeline.syncOperations.addHandlers([
                IdleStateHandler(readTimeout: .seconds(app.configuration.httpIdleTimeoutSeconds)), HTTPHandler(app: app),
            ])
        }
        let release = harness.holdFileReads()
        // Signalled below once the idle event has been seen; again here if the test throws
        // first, so the pool can stop (a second signal is harmless).
        defer { release.signal() }
        try await channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
        try await loop.executeInContext {
            channel.pipeline.syncOperations.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        }
        #expect(channel.isActive, "the request is still being answered")
        release.signal()

        var text = ""
        var answered: [Response] = []
        let deadline = ContinuousClock.now + .seconds(120)
        while answered.isEmpty {
            if let data = try await channel.readOutbound(as: IOData.self) {
                text += try Self.string(data)
                answered = (try? Self.parse(text)) ?? []
                continue
            }
            guard ContinuousClock.now < deadline else { throw TestFailure("no response within 120 s: \(text)") }
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(answered.map(\.status) == [200])
        #expect(answered.first?.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(channel.isActive)
        try await loop.executeInContext {
            channel.pipeline.syncOperations.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        }
        #expect(try await channel.closeFuture.map { true }.get())
        await harness.stop()
        await loop.shutdownGracefully()
    }
}
