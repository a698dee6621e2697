import NIOCore
import NIOEmbedded
import Testing

@testable import DugnadServer

/// The first handler of every connection, on an embedded channel whose clock the test
/// moves: the per-address limit (a bare 429, then close), the header deadline (slowloris),
/// and what happens once a complete head has arrived (the handler leaves, the slot is given
/// back when the connection closes).
@Suite struct ConnectionAdmissionHandlerTests {
    private static let headerTimeout = TimeAmount.seconds(10)
    private static let refusal = "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"

    /// Records what passes the admission handler: whether the connection became active
    /// further down, and the bytes handed on.
    final class Downstream: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var active = false
        var received: [UInt8] = []

        func channelActive(context: ChannelHandlerContext) {
            active = true
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytesView
        }
    }

    /// A connection from `address` (nil: none known) through a fresh admission handler on
    /// `loop`, connected (so `channelActive` has run).
    private func connect(
        _ limiter: AddressLimiter, from address: String? = "127.0.0.1", on loop: EmbeddedEventLoop
    ) throws -> (EmbeddedChannel, Downstream) {
        let downstream = Downstream()
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandlers([
            ConnectionAdmissionHandler(limiter: limiter, headerTimeout: Self.headerTimeout), downstream,
        ])
        guard let address else {
            // Connecting an embedded channel sets its remote address: without one, only the event.
            channel.pipeline.fireChannelActive()
            return (channel, downstream)
        }
        let peer = try SocketAddress(ipAddress: address, port: 40_000)
        channel.remoteAddress = peer
        try channel.connect(to: peer).wait()
        return (channel, downstream)
    }

    private func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    private func admissionHandlerIsInPipeline(_ channel: EmbeddedChannel) -> Bool {
        (try? channel.pipeline.syncOperations.handler(type: ConnectionAdmissionHandler.self)) != nil
    }

    // MARK: The per-address limit

    @Test func theLimiterCountsEachAddressOnItsOwnAndGivesSlotsBack() {
        let limiter = AddressLimiter(limit: 2)
        #expect(limiter.acquire("10.1.1.1"))
        #expect(limiter.acquire("10.1.1.1"))
        #expect(!limiter.acquire("10.1.1.1"), "a third from one address")
        #expect(limiter.acquire("10.1.1.2"), "another address has its own count")
        limiter.release("10.1.1.1")
        #expect(limiter.acquire("10.1.1.1"), "a released slot is free again")
        // Releasing an address that holds nothing changes nothing.
        limiter.release("10.9.9.9")
        #expect(!limiter.acquire("10.1.1.1"))
    }

    @Test func aConnectionBeyondTheAddressLimitGetsABare429AndIsClosed() throws {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let limiter = AddressLimiter(limit: 2)
        let (first, firstDownstream) = try connect(limiter, on: loop)
        let (second, _) = try connect(limiter, on: loop)
        #expect(firstDownstream.active && first.isActive && second.isActive)

        let (third, thirdDownstream) = try connect(limiter, on: loop)
        #expect(try written(third) == Self.refusal)
        #expect(!third.isActive, "closed once the refusal was written")
        #expect(!thirdDownstream.active, "nothing further down ever saw the refused connection")
        #expect(try written(first).isEmpty)

        // Another address is not affected.
        let (other, _) = try connect(limiter, from: "127.0.0.2", on: loop)
        #expect(other.isActive)
        #expect(try written(other).isEmpty)

        // A refused connection took no slot; a closed one gives its slot back.
        _ = try first.finish(acceptAlreadyClosed: true)
        let (again, againDownstream) = try connect(limiter, on: loop)
        #expect(again.isActive && againDownstream.active)
        #expect(try written(again).isEmpty)
        for channel in [second, other, again] { _ = try channel.finish(acceptAlreadyClosed: true) }
    }

    /// Holds every write and never completes it, as TLS does before its handshake.
    final class HandshakeNeverMade: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var held = 0

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            held += 1
        }
    }

    @Test func aRefusedConnectionWhoseAnswerCannotBeWrittenIsClosedAtTheHeaderDeadline() throws {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let limiter = AddressLimiter(limit: 1)
        let (first, _) = try connect(limiter, on: loop)
        let tls = HandshakeNeverMade()
        let refused = EmbeddedChannel(loop: loop)
        try refused.pipeline.syncOperations.addHandlers([
            tls, ConnectionAdmissionHandler(limiter: limiter, headerTimeout: Self.headerTimeout),
        ])
        let peer = try SocketAddress(ipAddress: "127.0.0.1", port: 40_001)
        refused.remoteAddress = peer
        try refused.connect(to: peer).wait()
        #expect(tls.held == 1, "the 429 waits behind the handshake")
        #expect(refused.isActive)
        loop.advanceTime(by: Self.headerTimeout)
        #expect(!refused.isActive, "closed at the deadline all the same")
        _ = try first.finish(acceptAlreadyClosed: true)
    }

    @Test func aConnectionWithoutARemoteAddressIsCountedUnderUnknown() throws {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let limiter = AddressLimiter(limit: 1)
        let (channel, downstream) = try connect(limiter, from: nil, on: loop)
        #expect(downstream.active)
        #expect(!limiter.acquire("unknown"), "the slot of the address-less connection is taken")
        _ = try channel.finish(acceptAlreadyClosed: true)
        #expect(limiter.acquire("unknown"), "and given back when it closes")
    }

    // MARK: The header deadline

    @Test func aHeadThatIsNotCompleteWhenTheHeaderTimeoutRunsOutIsCutOff() throws {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let limiter = AddressLimiter(limit: 1)
        let (channel, downstream) = try connect(limiter, on: loop)
        // A slowloris: bytes keep coming, each one progress, none of them ends the head.
        let partial = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: aaaa"
        for byte in partial.utf8 {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            loop.advanceTime(by: .milliseconds(100))
        }
        #expect(Array(downstream.received) == Array(partial.utf8), "every byte is handed on as it comes")
        #expect(channel.isActive, "progress does not count: only the deadline does")

        loop.advanceTime(to: .uptimeNanoseconds(0) + Self.headerTimeout - .milliseconds(1))
        #expect(channel.isActive, "1 ms before the deadline")
        loop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive, "cut off at the deadline")
        #expect(try written(channel).isEmpty, "nothing is answered to an incomplete request")
        #expect(limiter.acquire("127.0.0.1"), "the slot is given back")
    }

    @Test func aConnectionThatSendsNothingIsCutOffAtTheDeadlineToo() throws {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let limiter = AddressLimiter(limit: 1)
        let (channel, _) = try connect(limiter, on: loop)
        loop.advanceTime(by: Self.headerTimeout)
        #expect(!channel.isActive)
        #expect(limiter.acquire("127.0.0.1"))
    }

    @Test(arguments: [
        ["GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"],
        ["GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r", "\n"],
        ["GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r", "\n\r\n"],
        ["GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", "\r", "\n"],
        ["GET /healthz HTTP/1.1\r\nHost: 127.0.0.1", "\r", "\n", "\r", "\n"],
    ])
    func aCompleteHeadStopsTheDeadlineEvenWhenItsEndIsSplitAcrossReads(_ reads: [String]) throws {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let limiter = AddressLimiter(limit: 1)
        let (channel, downstream) = try connect(limiter, on: loop)
        for read in reads {
            #expect(admissionHandlerIsInPipeline(channel), "the head is not complete yet")
            try channel.writeInbound(ByteBuffer(string: read))
        }
        #expect(String(decoding: downstream.received, as: UTF8.self) == reads.joined())
        #expect(!admissionHandlerIsInPipeline(channel), "once the head is complete the handler leaves the pipeline")

        loop.advanceTime(by: Self.headerTimeout * 3)
        #expect(channel.isActive, "a connection whose head arrived is not cut off")
        // Reads after the head go straight to the next handler.
        try channel.writeInbound(ByteBuffer(string: "body"))
        #expect(String(decoding: downstream.received, as: UTF8.self) == reads.joined() + "body")

        // The slot is held while the connection is open and given back when it closes.
        #expect(!limiter.acquire("127.0.0.1"))
        _ = try channel.finish(acceptAlreadyClosed: true)
        #expect(limiter.acquire("127.0.0.1"))
    }

    @Test func aHeadEndThatLooksAlmostRightDoesNotCount() throws {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let limiter = AddressLimiter(limit: 1)
        let (channel, _) = try connect(limiter, on: loop)
        for read in ["GET / HTTP/1.1\r\n", "Host: x\r\n\r", "X", "\n\r\n"] {
            try channel.writeInbound(ByteBuffer(string: read))
        }
        #expect(admissionHandlerIsInPipeline(channel))
        loop.advanceTime(by: Self.headerTimeout)
        #expect(!channel.isActive)
    }

    @Test func theHeadEndIsFoundAnywhereInABuffer() {
        #expect(ConnectionAdmissionHandler.containsHeadEnd(Array("\r\n\r\n".utf8)))
        #expect(ConnectionAdmissionHandler.containsHeadEnd(Array("a\r\n\r\nbody".utf8)))
        #expect(!ConnectionAdmissionHandler.containsHeadEnd(Array("\r\n\r".utf8)))
        #expect(!ConnectionAdmissionHandler.containsHeadEnd(Array("\n\r\n\r".utf8)))
        #expect(!ConnectionAdmissionHandler.containsHeadEnd([]))
    }
}
