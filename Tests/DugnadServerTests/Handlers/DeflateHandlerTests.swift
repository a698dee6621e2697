import DugnadProtocol
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import DugnadServer

/// permessage-deflate in the connection handlers, on embedded channels: the echo endpoint
/// inflates what comes in and compresses what goes out (above the threshold only), and
/// `/ws` closes a decompression bomb with 1009 and RSV1 without the extension with 1002.
@Suite struct DeflateHandlerTests {
    private static let peer = try! SocketAddress(ipAddress: "127.0.0.1", port: 40_000)

    private func connect(_ app: AppContext, on loop: EmbeddedEventLoop, handler: any ChannelHandler) throws
        -> EmbeddedChannel
    {
        let channel = EmbeddedChannel(loop: loop)
        channel.remoteAddress = Self.peer
        try channel.connect(to: Self.peer).wait()
        try channel.pipeline.syncOperations.addHandler(handler)
        return channel
    }

    private let agreement = DeflateAgreement()

    @Test func theEchoInflatesWhatComesAndCompressesWhatGoesAboveTheThreshold() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop, handler: EchoHandler(app: app, deflate: agreement))
            let large = Array(String(repeating: "{\"type\":\"message\",\"body\":\"hei\"} ", count: 40).utf8)
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.text, try TestDeflate.compress(large), rsv1: true))
            try channel.writeInbound(ClientFrame.text("small"))
            let frames = try channel.serverFrames()
            #expect(frames.count == 2)
            #expect(frames.first?.rsv1 == true)
            #expect(frames.first?.payload.count ?? .max < large.count / 4)
            #expect(try TestDeflate.inflate(frames.first?.payload ?? []) == large)
            #expect(frames.last == ServerFrame(fin: true, opcode: 0x1, payload: Array("small".utf8)), "below 256 bytes: plain")
        }
    }

    @Test func withoutAnAgreementTheEchoSendsPlainFrames() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop, handler: EchoHandler(app: app))
            let large = String(repeating: "plain ", count: 100)
            try channel.writeInbound(ClientFrame.text(large))
            #expect(try channel.serverFrames() == [ServerFrame(fin: true, opcode: 0x1, payload: Array(large.utf8))])
        }
    }

    @Test func aDecompressionBombOnWsClosesWith1009() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let handler = WebSocketHandler(app: app, initialToken: nil, deflate: agreement)
            let channel = try connect(app, on: loop, handler: handler)
            // 10 MiB once inflated, about 10 KiB on the wire: within the frame limit.
            let bomb = try TestDeflate.compress(Array(repeating: 0x7B, count: 10 << 20))
            #expect(bomb.count < app.configuration.hub.limits.maxFrameBytes)
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.text, bomb, rsv1: true))
            let frames = try channel.serverFrames()
            #expect(frames.map(\.close?.code) == [1009])
        }
    }

    @Test func rsv1WithoutAnAgreementOnWsClosesWith1002() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop, handler: WebSocketHandler(app: app, initialToken: nil))
            let compressed = try TestDeflate.compress(Array(#"{"type":"auth","token":"x"}"#.utf8))
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.text, compressed, rsv1: true))
            #expect(try channel.serverFrames().map(\.close?.code) == [1002])
        }
    }
}
