import DugnadCore
import DugnadProtocol
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import DugnadServer

/// The `/ws` connection handler without a socket: the pipeline the upgrade builds (the
/// handler alone, which reads and writes frames itself) on a test channel, bytes in as a
/// client sends them, frames out as the server writes them. Deadlines (authentication,
/// pings, the close timeout) run on the loop's virtual clock, which the per-loop
/// `ConnectionTicker` reads, so no test here sleeps to see a timeout.
///
/// Before authentication the handler never reaches the hub, so those tests run on an
/// `EmbeddedChannel`. An authenticated session needs the hub (a token checked on a task,
/// the welcome read on the storage thread pool), so those run on a thread-safe
/// `NIOAsyncTestingChannel` and wait, with a generous bound, for the frames they need.
@Suite struct WebSocketHandlerTests {
    private static let peer = try! SocketAddress(ipAddress: "127.0.0.1", port: 40_000)

    /// A connection right after the upgrade, on `loop`: the handler alone, as
    /// `WebSocketServerUpgrader` leaves it.
    private func connect(_ app: AppContext, on loop: EmbeddedEventLoop, token: String? = nil) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        channel.remoteAddress = Self.peer
        try channel.connect(to: Self.peer).wait()
        try channel.pipeline.syncOperations.addHandler(WebSocketHandler(app: app, initialToken: token))
        return channel
    }

    /// No authentication deadline in the way (for tests about something else).
    private static func withoutAuthTimeout(_ configuration: inout ServerConfiguration) {
        configuration.authTimeout = 3_600
    }

    // MARK: - Authentication

    @Test func aConnectionThatDoesNotAuthenticateIsClosedWith4001AuthTimeoutWhenItsTimeRunsOut() async throws {
        try await HandlerHarness.withEmbeddedLoop(configure: { $0.authTimeout = 10 }) { loop, app in
            let channel = try connect(app, on: loop)
            loop.advanceTime(by: .seconds(10) - ConnectionTicker.interval)
            #expect(try channel.serverFrames().isEmpty, "a tick before the deadline")
            loop.advanceTime(by: ConnectionTicker.interval)
            let frames = try channel.serverFrames()
            #expect(frames.count == 1)
            #expect(frames.first?.close?.code == 4001)
            #expect(frames.first?.close?.reason == "auth_timeout")
            // Our close frame is out; the client's answer ends the connection.
            #expect(channel.isActive)
            try channel.writeInbound(ClientFrame.close(code: 4001))
            #expect(!channel.isActive)
            #expect(try channel.serverFrames().isEmpty, "no second close frame")
        }
    }

    @Test(arguments: [
        #"{"type":"join","channel":"general"}"#,
        #"{"type":"ping","ref":1}"#,
        #"{"type":"auth"}"#,
        #"{"type":"auth","token":""}"#,
        #"{"type":"auth","token":5}"#,
        "{not json",
    ])
    func aFirstMessageThatIsNotAnAuthWithATokenClosesWith4001MissingToken(_ message: String) async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            try channel.writeInbound(ClientFrame.text(message))
            let frames = try channel.serverFrames()
            #expect(frames.map(\.close?.code) == [4001])
            #expect(frames.first?.close?.reason == "missing_token")
            // Whatever follows our close frame is not read, except the client's close.
            try channel.writeInbound(ClientFrame.text(#"{"type":"auth","token":"late"}"#))
            #expect(try channel.serverFrames().isEmpty)
            #expect(channel.isActive)
            try channel.writeInbound(ClientFrame.close(code: 4001))
            #expect(!channel.isActive)
        }
    }

    // MARK: - Outbound

    @Test func whatIsHandedOverBetweenTwoFlushesLeavesAsOneWriteAndACloseKeepsItsPlaceBehindIt() async throws {
        try await HandlerHarness.withEmbeddedLoop(configure: Self.withoutAuthTimeout) { loop, app in
            let handler = WebSocketHandler(app: app, initialToken: nil)
            let channel = EmbeddedChannel(loop: loop)
            channel.remoteAddress = Self.peer
            try channel.connect(to: Self.peer).wait()
            try channel.pipeline.syncOperations.addHandler(handler)
            // As the router hands over a drain's events: three frames, then one flush.
            for text in ["one", "two", "three"] { handler.enqueue(OutboundFrame.make(Array(text.utf8))) }
            #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "nothing is written before the flush")
            handler.flush()
            let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
            #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "one write for the three")
            #expect(try ServerFrame.parse(written).map { String(decoding: $0.payload, as: UTF8.self) } == ["one", "two", "three"])
            // A close after a hand-over goes out behind what was handed over.
            handler.enqueue(OutboundFrame.make(Array("four".utf8)))
            handler.close(code: .goingAway, reason: "bye")
            let frames = try channel.serverFrames()
            #expect(frames.map(\.opcode) == [0x1, 0x8])
            #expect(frames.first.map { String(decoding: $0.payload, as: UTF8.self) } == "four")
        }
    }

    // MARK: - Frames

    @Test func aBinaryFrameIsAnsweredWith1003() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.binary, [1, 2, 3]))
            let frames = try channel.serverFrames()
            #expect(frames.map(\.close?.code) == [1003])
            #expect(frames.first?.close?.reason == "binary frames are not supported")
        }
    }

    @Test func aFrameLargerThanTheLimitIsAnsweredWith1009AndTheConnectionEnds() async throws {
        try await HandlerHarness.withEmbeddedLoop(configure: { $0.hub.limits.maxFrameBytes = 1_024 }) { loop, app in
            let channel = try connect(app, on: loop)
            // The frame reader refuses it from its header: nothing more is read.
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.text, Array(repeating: 0x61, count: 1_025)))
            let frames = try channel.serverFrames()
            #expect(frames.map(\.close?.code) == [1009])
            #expect(!channel.isActive, "closed once the close frame is written")
        }
    }

    @Test func aFrameAnnouncedOverTheLimitIsAnsweredWith1009BeforeItsPayloadArrives() async throws {
        try await HandlerHarness.withEmbeddedLoop(configure: { $0.hub.limits.maxFrameBytes = 1_024 }) { loop, app in
            let channel = try connect(app, on: loop)
            var header = ByteBuffer(bytes: [0x81, 0x80 | 126])
            header.writeInteger(UInt16(1_025))
            try channel.writeInbound(header)
            #expect(try channel.serverFrames().map(\.close?.code) == [1009])
            #expect(!channel.isActive)
        }
    }

    @Test func framesSplitAcrossReadsAndSeveralInOneReadAreEachAnswered() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            var read = ClientFrame.bytes(opcode: ClientFrame.ping, [1])
            read.writeImmutableBuffer(ClientFrame.bytes(opcode: ClientFrame.ping, [2]))
            var split = ClientFrame.bytes(opcode: ClientFrame.ping, [3, 3])
            read.writeImmutableBuffer(split.readSlice(length: 3)!)
            try channel.writeInbound(read)
            #expect(try channel.serverFrames().map(\.payload) == [[1], [2]])
            try channel.writeInbound(split)
            #expect(try channel.serverFrames().map(\.payload) == [[3, 3]])
        }
    }

    @Test func fragmentsThatAddUpToMoreThanTheLimitAreAnsweredWith1009() async throws {
        try await HandlerHarness.withEmbeddedLoop(configure: { $0.hub.limits.maxFrameBytes = 1_024 }) { loop, app in
            let channel = try connect(app, on: loop)
            let half = Array(repeating: UInt8(0x61), count: 600)
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.text, half, fin: false))
            #expect(try channel.serverFrames().isEmpty, "the first fragment is within the limit")
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.continuation, half, fin: true))
            let frames = try channel.serverFrames()
            #expect(frames.map(\.close?.code) == [1009])
            #expect(frames.first?.close?.reason == "message larger than 1024 bytes")
        }
    }

    @Test func anUnmaskedClientFrameIsAProtocolError() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.text, Array("hi".utf8), masked: false))
            #expect(try channel.serverFrames().map(\.close?.code) == [1002])
        }
    }

    @Test func aPingIsAnsweredWithAPongCarryingItsPayload() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.ping, [7, 8, 9]))
            #expect(try channel.serverFrames() == [ServerFrame(fin: true, opcode: 0xA, payload: [7, 8, 9])])
            #expect(channel.isActive)
        }
    }

    // MARK: - Liveness

    @Test func twoUnansweredPingsCloseTheConnectionWith1001() async throws {
        try await HandlerHarness.withEmbeddedLoop(configure: Self.withoutAuthTimeout) { loop, app in
            let interval = TimeAmount.seconds(app.configuration.pingInterval)
            let channel = try connect(app, on: loop)
            loop.advanceTime(by: interval - ConnectionTicker.interval)
            #expect(try channel.serverFrames().isEmpty, "no ping before the interval")
            loop.advanceTime(by: ConnectionTicker.interval)
            #expect(try channel.serverFrames() == [ServerFrame(fin: true, opcode: 0x9, payload: [])], "the first ping")
            loop.advanceTime(by: interval)
            #expect(try channel.serverFrames().map(\.isPing) == [true], "the second ping")
            loop.advanceTime(by: interval - ConnectionTicker.interval)
            #expect(try channel.serverFrames().isEmpty)
            loop.advanceTime(by: ConnectionTicker.interval)
            let frames = try channel.serverFrames()
            #expect(frames.map(\.close?.code) == [1001])
            #expect(frames.first?.close?.reason == "no answer to two pings")

            // A client that answers nothing at all is cut off after the close timeout.
            loop.advanceTime(by: .seconds(app.configuration.closeTimeoutSeconds) - .milliseconds(1))
            #expect(channel.isActive)
            loop.advanceTime(by: .milliseconds(1))
            #expect(!channel.isActive)
            #expect(app.ticker(for: loop).count == 0, "a closed connection leaves the ticker")
        }
    }

    @Test func everyAnsweredPingStartsTheCountAgain() async throws {
        try await HandlerHarness.withEmbeddedLoop(configure: Self.withoutAuthTimeout) { loop, app in
            let interval = TimeAmount.seconds(app.configuration.pingInterval)
            let channel = try connect(app, on: loop)
            // Ten intervals with every ping answered: still open.
            for round in 1...10 {
                loop.advanceTime(by: interval)
                #expect(try channel.serverFrames().map(\.isPing) == [true], "ping \(round)")
                try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.pong, []))
            }
            #expect(channel.isActive)
            // Two pings missed, then a pong: the count starts again from there.
            loop.advanceTime(by: interval)
            loop.advanceTime(by: interval)
            #expect(try channel.serverFrames().map(\.isPing) == [true, true])
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.pong, []))
            loop.advanceTime(by: interval)
            loop.advanceTime(by: interval)
            #expect(try channel.serverFrames().map(\.isPing) == [true, true], "two pings again since the last pong")
            loop.advanceTime(by: interval)
            #expect(try channel.serverFrames().map(\.close?.code) == [1001])
        }
    }

    @Test func anyFrameFromTheClientCountsAsAnAnswer() async throws {
        try await HandlerHarness.withEmbeddedLoop(configure: Self.withoutAuthTimeout) { loop, app in
            let interval = TimeAmount.seconds(app.configuration.pingInterval)
            let channel = try connect(app, on: loop)
            // Two pings without a pong, but the client sent a frame of its own (here a ping
            // of its own, answered with a pong): alive, not closed at the next tick.
            loop.advanceTime(by: interval)
            loop.advanceTime(by: interval)
            #expect(try channel.serverFrames().map(\.isPing) == [true, true])
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.ping, [1]))
            loop.advanceTime(by: interval)
            #expect(try channel.serverFrames().map(\.opcode) == [0xA, 0x9], "its pong, then the next ping")
            #expect(channel.isActive)
        }
    }

    @Test func aPingNotYetWrittenIsNotCountedAgainstTheClient() async throws {
        try await HandlerHarness.withEmbeddedLoop(configure: Self.withoutAuthTimeout) { loop, app in
            let interval = TimeAmount.seconds(app.configuration.pingInterval)
            let channel = try connect(app, on: loop)
            // The hub is late: its writes wait (as behind a busy loop's fan-out) and the
            // client cannot have answered pings it never got.
            let held = HeldWrites()
            try channel.pipeline.syncOperations.addHandler(held, position: .first)
            for _ in 1...4 { loop.advanceTime(by: interval) }
            #expect(channel.isActive)
            #expect(held.count == 4, "four pings queued, none written")
            // Once they are written and still unanswered, they count: closed at the next tick.
            held.release()
            #expect(try channel.serverFrames().map(\.isPing) == [true, true, true, true])
            loop.advanceTime(by: interval)
            #expect(try channel.serverFrames().map(\.close?.code) == [1001])
        }
    }

    // MARK: - Closing

    @Test func aClientCloseIsAnsweredWithItsCodeAndTheConnectionEnds() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            #expect(app.connections.count == 1)
            try channel.writeInbound(ClientFrame.close(code: 1000, reason: "bye"))
            #expect(try channel.serverFrames().map(\.close?.code) == [1000])
            #expect(!channel.isActive, "the server ends the TCP connection once its answer is written")
            #expect(app.connections.count == 0)
            #expect(app.ticker(for: loop).count == 0)
        }
    }

    @Test(arguments: [
        (nil as UInt16?, 1000 as UInt16),  // no code: answered with 1000
        (4321, 4321),  // an application's code is echoed
        (1005, 1002),  // a code that must not be sent
        (999, 1002),
    ])
    func aClientCloseIsAnsweredWithTheCodeTheRFCAsksFor(_ sent: UInt16?, _ answered: UInt16) async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            try channel.writeInbound(ClientFrame.close(code: sent))
            #expect(try channel.serverFrames().map(\.close?.code) == [answered])
            #expect(!channel.isActive)
        }
    }

    @Test func aShutdownClosesWith1001() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            channel.pipeline.fireUserInboundEventTriggered(ShutdownEvent())
            let frames = try channel.serverFrames()
            #expect(frames.map(\.close?.code) == [1001])
            #expect(frames.first?.close?.reason == "server shutting down")
            try channel.writeInbound(ClientFrame.close(code: 1001))
            #expect(!channel.isActive)
        }
    }

    // MARK: - An authenticated session

    /// A connection on a thread-safe test loop with the hub's fan-out and storage callbacks
    /// on that loop, so a token can be checked and a session opened.
    private func connectAuthenticated(
        _ harness: HandlerHarness, on loop: NIOAsyncTestingEventLoop, token: String?
    ) async throws -> (NIOAsyncTestingChannel, AppContext) {
        let app = harness.makeApp(on: loop)
        let channel = NIOAsyncTestingChannel(loop: loop)
        try await loop.executeInContext {
            channel.remoteAddress = Self.peer
            channel.connect(to: Self.peer, promise: nil)
            try channel.pipeline.syncOperations.addHandler(WebSocketHandler(app: app, initialToken: token))
        }
        return (channel, app)
    }

    @Test func anAuthenticatedSessionAnswersCommandsAndIsClosedAfterTwoUnansweredPings() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let harness = try await HandlerHarness.start(hubGroup: loop)
        let token = try await TestHub.token("kari")
        let (channel, app) = try await connectAuthenticated(harness, on: loop, token: token)
        let frames = ServerFrameReader(channel)

        let welcome = try await frames.nextJSON { $0["type"] == "welcome" }
        #expect(welcome.at("user", "id") == "kari")
        #expect(welcome.at("server", "ping_interval") == .int(app.configuration.pingInterval))
        #expect(harness.hub.isOnline("kari"))
        try await channel.writeInbound(ClientFrame.text(#"{"type":"ping","ref":1}"#))
        let reply = try await frames.nextJSON { $0["type"] == "reply" && $0["ref"] == .int(1) }
        #expect(reply["ok"] == true)

        // The session is past its authentication deadline without being closed for it.
        let interval = TimeAmount.seconds(app.configuration.pingInterval)
        await loop.advanceTime(by: interval)
        _ = try await frames.next { $0.isPing }
        await loop.advanceTime(by: interval)
        _ = try await frames.next { $0.isPing }
        await loop.advanceTime(by: interval)
        let close = try await frames.next { $0.isClose }
        #expect(close.close?.code == 1001)
        #expect(close.close?.reason == "no answer to two pings")
        #expect(!harness.hub.isOnline("kari"), "the session ended with the close frame")

        try await channel.writeInbound(ClientFrame.close(code: 1001))
        #expect(try await channel.closeFuture.map { true }.get())
        #expect(app.connections.count == 0)
        #expect(try await loop.executeInContext { app.ticker(for: loop).count } == 0)
        await harness.stop()
        await loop.shutdownGracefully()
    }

    @Test func commandsSentWhileTheTokenIsCheckedAreAnsweredAfterTheWelcome() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let harness = try await HandlerHarness.start(hubGroup: loop)
        let token = try await TestHub.token("ola")
        let (channel, _) = try await connectAuthenticated(harness, on: loop, token: nil)
        let frames = ServerFrameReader(channel)
        // The token comes in the first frame; a command follows at once, before the
        // verification (on a task) can have finished.
        try await loop.executeInContext {
            let pipeline = channel.pipeline.syncOperations
            pipeline.fireChannelRead(NIOAny(ClientFrame.text(#"{"type":"auth","token":"\#(token)"}"#)))
            pipeline.fireChannelRead(NIOAny(ClientFrame.text(#"{"type":"ping","ref":"early"}"#)))
        }
        let first = try await frames.next { !$0.isPing }
        #expect(first.json?["type"] == "welcome", "got \(first)")
        let reply = try await frames.nextJSON { $0["ref"] == "early" }
        #expect(reply["ok"] == true)
        try await channel.writeInbound(ClientFrame.close(code: 1000))
        #expect(try await channel.closeFuture.map { true }.get())
        await harness.stop()
        await loop.shutdownGracefully()
    }

    @Test func aTokenThatDoesNotVerifyClosesWith4001AndItsReason() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let harness = try await HandlerHarness.start(hubGroup: loop)
        let (channel, _) = try await connectAuthenticated(harness, on: loop, token: "not.a.token")
        let frames = ServerFrameReader(channel)
        let close = try await frames.next { $0.isClose }
        #expect(close.close?.code == 4001)
        #expect(close.close?.reason == "invalid_token")
        #expect(!harness.hub.isOnline("kari"))
        try await channel.writeInbound(ClientFrame.close(code: 4001))
        #expect(try await channel.closeFuture.map { true }.get())
        await harness.stop()
        await loop.shutdownGracefully()
    }
}

/// Holds every outbound write (and its promise) until `release()`: the socket side of a
/// connection whose hub is too busy to write.
private final class HeldWrites: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?
    private var held: [(NIOAny, EventLoopPromise<Void>?)] = []
    private var holding = true
    var count: Int { held.count }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if holding {
            held.append((data, promise))
        } else {
            context.write(data, promise: promise)
        }
    }

    func flush(context: ChannelHandlerContext) {
        if !holding { context.flush() }
    }

    func release() {
        holding = false
        guard let context else { return }
        for (data, promise) in held { context.write(data, promise: promise) }
        held.removeAll()
        context.flush()
    }
}
