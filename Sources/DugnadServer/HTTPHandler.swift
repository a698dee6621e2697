import DugnadCore
import DugnadProtocol
import NIOCore
import NIOHTTP1

/// Plain HTTP requests on the hub's port (everything but a successful WebSocket upgrade):
/// health, readiness, metrics, the HTTP API and the web client. Confined to its event loop.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let app: AppContext
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var bodyTooLarge = false
    private var busy = false

    init(app: AppContext) {
        self.app = app
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = nil
            bodyTooLarge = false
        case .body(var chunk):
            guard !bodyTooLarge else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > app.configuration.maxHTTPBodyBytes {
                bodyTooLarge = true
                body = nil
                return
            }
            if body == nil {
                body = chunk
            } else {
                body!.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            if bodyTooLarge {
                let error = ProtocolError(.tooLarge, "request body larger than \(app.configuration.maxHTTPBodyBytes) bytes")
                return respond(context: context, head: head, response: .error(error), keepAlive: false)
            }
            route(context: context, head: head, body: body)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A request NIO could not parse (oversized head, bad syntax) was answered with 400 by
        // NIO's error handler; the connection cannot be trusted for another request.
        app.logger.debug("http error: \(error)")
        if error is HTTPParserError { context.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, !busy {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func route(context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer?) {
        let path = head.path
        let loop = context.eventLoop
        let future: EventLoopFuture<HTTPResponse>
        switch (head.method, path) {
        case (.GET, "/healthz"), (.HEAD, "/healthz"):
            future = loop.makeSucceededFuture(.text(.ok, "ok\n"))
        case (.GET, "/readyz"), (.HEAD, "/readyz"):
            let promise = loop.makePromise(of: HTTPResponse.self)
            let hub = app.hub
            promise.completeWithTask {
                await hub.isReady() ? .text(.ok, "ready\n") : .text(.serviceUnavailable, "storage is not writable\n")
            }
            future = promise.futureResult
        case (.GET, "/metrics"):
            future = loop.makeSucceededFuture(
                HTTPResponse(status: .ok, contentType: "text/plain; version=0.0.4", body: app.registry.emitToBuffer()))
        case (_, "/ws"):
            let offered = head.headers[canonicalForm: "sec-websocket-protocol"].map(String.init)
            let message =
                head.headers.contains(name: "upgrade")
                ? (offered.isEmpty
                    ? "WebSocket upgrade refused" : "unsupported subprotocol; this hub speaks \(WebSocketUpgrade.subprotocol)")
                : "this endpoint needs a WebSocket upgrade"
            if head.headers.contains(name: "origin"), !WebSocketUpgrade.originAllowed(head, app.configuration) {
                future = loop.makeSucceededFuture(.error(.forbidden("origin not allowed")))
            } else {
                future = loop.makeSucceededFuture(.error(.badRequest(message)))
            }
        case (_, _) where path.hasPrefix("/api/"):
            future = APIRouter(app: app).handle(head: head, path: path, body: body, on: loop)
        case (.GET, _), (.HEAD, _):
            future = app.fileReader.read(path: path, on: loop).map { file in
                guard let file else { return .error(.notFound("no such file")) }
                return HTTPResponse(status: .ok, contentType: file.contentType, body: file.bytes)
            }
        default:
            future = loop.makeSucceededFuture(.error(ProtocolError(.notFound, "no route for \(head.method) \(path)")))
        }
        busy = true
        future.assumeIsolated().whenComplete { [self] result in
            busy = false
            let response: HTTPResponse
            switch result {
            case .success(let value): response = value
            case .failure(let error): response = .error(Hub.protocolError(error))
            }
            respond(context: context, head: head, response: response, keepAlive: head.isKeepAlive)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, response: HTTPResponse, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.count))
        headers.add(name: "x-content-type-options", value: "nosniff")
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if head.method != .HEAD {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension HTTPHandler: Sendable {}
