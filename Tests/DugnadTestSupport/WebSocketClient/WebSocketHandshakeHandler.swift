import NIOCore
import NIOHTTP1

/// Drives the HTTP side of the opening handshake. It sits after NIO's `NIOHTTPClientUpgradeHandler`:
///
/// - on `channelActive` it sends the upgrade request (the upgrade handler adds `Upgrade`,
///   `Connection`, `Sec-WebSocket-Key` and `Sec-WebSocket-Version` to it on the way out);
/// - if the server does *not* switch protocols, the upgrade handler passes the response through
///   to here, and it is collected and reported as ``WebSocketUpgradeFailed``;
/// - if the upgrade handler rejects a 101 (wrong `Sec-WebSocket-Accept`, missing `Upgrade`), its
///   error arrives here and is reported as ``WebSocketHandshakeError``.
///
/// On a successful upgrade the client's upgrade callback removes this handler before any
/// WebSocket bytes flow, and completes the promise itself.
final class WebSocketHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let requestHead: HTTPRequestHead
    private let promise: EventLoopPromise<String?>
    private var responseHead: HTTPResponseHead?
    private var body: [UInt8] = []
    private var finished = false

    init(requestHead: HTTPRequestHead, promise: EventLoopPromise<String?>) {
        self.requestHead = requestHead
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(requestHead)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            responseHead = head
        case .body(let chunk):
            let room = WebSocketUpgradeFailed.maximumBodyBytes - body.count
            if room > 0 {
                body.append(contentsOf: chunk.readableBytesView.prefix(room))
            }
        case .end:
            failWithResponse(context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason: String
        switch error as? NIOHTTPClientUpgradeError {
        case .upgraderDeniedUpgrade?:
            reason = "101 response with a missing or wrong Sec-WebSocket-Accept"
        case .responseProtocolNotFound?:
            reason = "101 response without Upgrade: websocket"
        default:
            reason = "\(error)"
        }
        fail(context, WebSocketHandshakeError(reason: reason))
    }

    func channelInactive(context: ChannelHandlerContext) {
        if responseHead != nil {
            // A response delimited by connection close, or cut short: report what we have.
            failWithResponse(context)
        } else {
            fail(context, WebSocketHandshakeError(reason: "connection closed before the handshake response"))
        }
        context.fireChannelInactive()
    }

    private func failWithResponse(_ context: ChannelHandlerContext) {
        guard let head = responseHead else {
            return fail(context, WebSocketHandshakeError(reason: "response ended without a head"))
        }
        let error = WebSocketUpgradeFailed(
            status: Int(head.status.code),
            headers: head.headers.map { ($0.name, $0.value) },
            body: String(decoding: body, as: UTF8.self)
        )
        fail(context, error)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        guard !finished else { return }
        finished = true
        promise.fail(error)
        context.close(promise: nil)
    }
}
