import NIOCore
import NIOHTTP1
import NIOWebSocket

/// NIO's WebSocket upgrade without NIO's frame handlers. The handshake (the key, version 13,
/// `Sec-WebSocket-Accept`, the headers `shouldUpgrade` adds) is `NIOWebSocketServerUpgrader`'s;
/// the pipeline after it is ours: only the connection handler, which reads and writes frames
/// itself (`WebSocketFrameReader`). NIO's upgrader would add `WebSocketFrameEncoder` and
/// `ByteToMessageHandler(WebSocketFrameDecoder)` first: with their contexts, 760 bytes of
/// heap and 920 of RSS per idle connection (issue 14; docs/benchmarks.md, "The connection
/// diet").
final class WebSocketServerUpgrader: HTTPServerProtocolUpgrader, Sendable {
    private let handshake: NIOWebSocketServerUpgrader
    private let makeHandler: @Sendable (any Channel, HTTPRequestHead) -> any ChannelHandler

    /// - Parameters:
    ///   - shouldUpgrade: the extra response headers, or nil to refuse (as NIO's upgrader).
    ///   - makeHandler: the one handler the upgraded pipeline gets, frames included.
    init(
        shouldUpgrade: @escaping @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?>,
        makeHandler: @escaping @Sendable (any Channel, HTTPRequestHead) -> any ChannelHandler
    ) {
        self.handshake = NIOWebSocketServerUpgrader(
            automaticErrorHandling: false, shouldUpgrade: shouldUpgrade,
            // Never called: `upgrade(context:upgradeRequest:)` below replaces NIO's.
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededVoidFuture() })
        self.makeHandler = makeHandler
    }

    var supportedProtocol: String { handshake.supportedProtocol }

    var requiredUpgradeHeaders: [String] { handshake.requiredUpgradeHeaders }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders)
        -> EventLoopFuture<HTTPHeaders>
    {
        handshake.buildUpgradeResponse(
            channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let channel = context.channel
        return context.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(makeHandler(channel, upgradeRequest))
        }
    }
}
