import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import DugnadServer

/// The test-only echo endpoint on an embedded channel: messages come back as they were sent
/// (binary too, unlike `/ws`), pings are answered, and both ways of closing end the
/// connection, the one the client never answers after the close timeout (virtual time).
@Suite struct EchoHandlerTests {
    private static let peer = try! SocketAddress(ipAddress: "127.0.0.1", port: 40_000)

    private func connect(_ app: AppContext, on loop: EmbeddedEventLoop) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        channel.remoteAddress = Self.peer
        try channel.connect(to: Self.peer).wait()
        try channel.pipeline.syncOperations.addHandler(EchoHandler(app: app))
        return channel
    }

    @Test func textAndBinaryMessagesComeBackAsTheyWereSent() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            #expect(app.connections.count == 1)
            try channel.writeInbound(ClientFrame.text("héllo ✓"))
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.binary, [0, 1, 2, 255]))
            #expect(
                try channel.serverFrames() == [
                    ServerFrame(fin: true, opcode: 0x1, payload: Array("héllo ✓".utf8)),
                    ServerFrame(fin: true, opcode: 0x2, payload: [0, 1, 2, 255]),
                ])
        }
    }

    @Test func aFragmentedMessageComesBackWholeAndPingsBetweenItsFragmentsAreAnswered() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            try channel.writeInbound(ClientFrame.text("frag", fin: false))
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.ping, [42]))
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.continuation, Array("ments".utf8), fin: true))
            #expect(
                try channel.serverFrames() == [
                    ServerFrame(fin: true, opcode: 0xA, payload: [42]),
                    ServerFrame(fin: true, opcode: 0x1, payload: Array("fragments".utf8)),
                ])
        }
    }

    @Test func aClientCloseIsAnsweredAndTheServerEndsTheConnection() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            try channel.writeInbound(ClientFrame.close(code: 1000, reason: "done"))
            #expect(try channel.serverFrames().map(\.close?.code) == [1000])
            #expect(!channel.isActive)
            #expect(app.connections.count == 0)
        }
    }

    @Test func aBrokenFrameIsAnsweredAndAClientThatNeverAnswersIsCutOffAfterTheCloseTimeout() async throws {
        try await HandlerHarness.withEmbeddedLoop(configure: { $0.closeTimeoutSeconds = 5 }) { loop, app in
            let channel = try connect(app, on: loop)
            try channel.writeInbound(ClientFrame.text("\u{FFFD}ok"))
            _ = try channel.serverFrames()
            // Invalid UTF-8 in a text frame: 1007, then nothing more is echoed.
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.text, [0xC0, 0x80]))
            #expect(try channel.serverFrames().map(\.close?.code) == [1007])
            try channel.writeInbound(ClientFrame.text("ignored"))
            #expect(try channel.serverFrames().isEmpty)
            loop.advanceTime(by: .seconds(5) - .milliseconds(1))
            #expect(channel.isActive)
            loop.advanceTime(by: .milliseconds(1))
            #expect(!channel.isActive)
        }
    }

    @Test func aFrameTheReaderRefusesIsAnsweredOnceAndTheConnectionEnds() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            // A ping longer than 125 bytes: the frame reader refuses it as a protocol error.
            try channel.writeInbound(ClientFrame.bytes(opcode: ClientFrame.ping, Array(repeating: 1, count: 126)))
            #expect(try channel.serverFrames().map(\.close?.code) == [1002])
            #expect(!channel.isActive)
        }
    }

    @Test func aShutdownClosesWith1001() async throws {
        try await HandlerHarness.withEmbeddedLoop { loop, app in
            let channel = try connect(app, on: loop)
            channel.pipeline.fireUserInboundEventTriggered(ShutdownEvent())
            #expect(try channel.serverFrames().map(\.close?.code) == [1001])
            try channel.writeInbound(ClientFrame.close(code: 1001))
            #expect(!channel.isActive)
        }
    }
}
