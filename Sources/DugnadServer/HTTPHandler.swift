import DugnadCore
import DugnadProtocol
import NIOCore
import NIOHTTP1

/// Plain HTTP requests on the hub's port (everything but a successful WebSocket upgrade):
/// health, readiness, metrics, the HTTP API and the web client. Confined to its event loop.
///
/// An API request is authenticated and routed from its head (`APIRouter.admit`), before
/// its body is held: a caller without credentials, or a request that goes nowhere, is
/// answered at once and the connection closed, whatever body it announced. A body that is
/// kept is bounded three ways: per request (`maxHTTPBodyBytes`, 413), across connections
/// (`maxHTTPBodyBytesInFlight`, 503) and in time (`httpBodyTimeoutSeconds` from the head,
/// 408). Responses respect back-pressure: while the connection cannot take more output,
/// the handler reads no further requests.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Where the current request stands.
    private enum Stage {
        /// Between requests.
        case idle
        /// Reading a request that needs no admission (health, files), until its end.
        case reading(HTTPRequestHead)
        /// An API request whose head is being authenticated; `ended` once its end arrived.
        case admitting(HTTPRequestHead, ended: Bool)
        /// An admitted API request, reading its body until its end.
        case admitted(APIRouter.Admitted, ended: Bool)
        /// Answered (or being answered): what else arrives of the request is dropped.
        case responding
    }

    private let app: AppContext
    private var stage = Stage.idle
    private var body: ByteBuffer?
    /// Bytes of `body` taken from the shared budget (given back when the request ends).
    private var heldBytes = 0
    private var bodyTimer: Scheduled<Void>?

    init(app: AppContext) {
        self.app = app
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            begin(head, context: context)
        case .body(let chunk):
            receive(chunk, context: context)
        case .end:
            switch stage {
            case .reading(let head):
                stage = .responding
                route(context: context, head: head)
            case .admitting(let head, _):
                stage = .admitting(head, ended: true)
            case .admitted(let request, _):
                dispatch(request, context: context)
            case .idle, .responding:
                break
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finishRequest()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finishRequest()
    }

    /// Back-pressure: no further request is read while the connection's output waits.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        context.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A request NIO could not parse (oversized head, bad syntax) was answered with 400 by
        // NIO's error handler; the connection cannot be trusted for another request.
        app.logger.debug("http error: \(error)")
        if error is HTTPParserError { context.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, case .idle = stage {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: - Reading a request

    private func begin(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        finishRequest()
        let path = head.path
        guard path.hasPrefix("/api/") else {
            stage = .reading(head)
            return
        }
        stage = .admitting(head, ended: false)
        bodyTimer = context.eventLoop.assumeIsolated().scheduleTask(
            in: .seconds(app.configuration.httpBodyTimeoutSeconds)
        ) { [self] in
            switch stage {
            case .admitting(_, ended: false), .admitted(_, ended: false):
                refuse(ProtocolError(.badRequest, "the request body did not arrive in time"), status: .requestTimeout,
                    head: head, context: context)
            default:
                break
            }
        }
        APIRouter(app: app).admit(head: head, path: path, on: context.eventLoop).assumeIsolated().whenSuccess {
            [self] admission in
            guard case .admitting(_, let ended) = stage else { return }
            switch admission {
            case .failure(let refusal):
                refuse(refusal.error, head: head, context: context)
            case .success(let request):
                stage = .admitted(request, ended: ended)
                if ended { dispatch(request, context: context) }
            }
        }
    }

    private func receive(_ chunk: ByteBuffer, context: ChannelHandlerContext) {
        let head: HTTPRequestHead
        switch stage {
        case .admitting(let admittingHead, _):
            head = admittingHead
        case .admitted(let request, _):
            guard request.route.takesBody else { return }
            head = request.head
        case .reading, .idle, .responding:
            // Health checks and files take no body: it is dropped as it comes.
            return
        }
        let limit = app.configuration.maxHTTPBodyBytes
        guard (body?.readableBytes ?? 0) + chunk.readableBytes <= limit else {
            return refuse(ProtocolError(.tooLarge, "request body larger than \(limit) bytes"), head: head, context: context)
        }
        guard app.bodyBudget.take(chunk.readableBytes) else {
            return refuse(
                ProtocolError(.unavailable, "the hub is reading too many request bodies; try again shortly", retryAfterMs: 1_000),
                head: head, context: context)
        }
        heldBytes += chunk.readableBytes
        var chunk = chunk
        if body == nil {
            body = chunk
        } else {
            body!.writeBuffer(&chunk)
        }
    }

    /// Gives back what the request held (its body's budget, its timer).
    private func finishRequest() {
        bodyTimer?.cancel()
        bodyTimer = nil
        if heldBytes > 0 {
            app.bodyBudget.give(heldBytes)
            heldBytes = 0
        }
        body = nil
    }

    // MARK: - Answering

    /// Answers at once and closes the connection: what is left of the request is not read.
    private func refuse(
        _ error: ProtocolError, status: HTTPResponseStatus? = nil, head: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        stage = .responding
        finishRequest()
        var response = HTTPResponse.error(error)
        if let status { response.status = status }
        respond(context: context, head: head, response: response, keepAlive: false)
    }

    private func dispatch(_ request: APIRouter.Admitted, context: ChannelHandlerContext) {
        stage = .responding
        bodyTimer?.cancel()
        bodyTimer = nil
        let body = request.route.takesBody ? self.body : nil
        answer(APIRouter(app: app).handle(request, body: body, on: context.eventLoop), head: request.head, context: context)
    }

    private func route(context: ChannelHandlerContext, head: HTTPRequestHead) {
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
        case (_, _) where path.hasPrefix("/auth/"):
            future = AuthEndpoints(app: app).respond(to: head, on: loop)
        case (.GET, _), (.HEAD, _):
            future = app.fileReader.read(path: path, on: loop).map { file in
                guard let file else { return .error(.notFound("no such file")) }
                return HTTPResponse(status: .ok, contentType: file.contentType, body: file.bytes)
            }
        default:
            future = loop.makeSucceededFuture(.error(ProtocolError(.notFound, "no route for \(head.method) \(path)")))
        }
        answer(future, head: head, context: context)
    }

    private func answer(_ future: EventLoopFuture<HTTPResponse>, head: HTTPRequestHead, context: ChannelHandlerContext) {
        future.assumeIsolated().whenComplete { [self] result in
            finishRequest()
            let response: HTTPResponse
            switch result {
            case .success(let value): response = value
            case .failure(let refusal as HTTPError): response = refusal.response
            case .failure(let error): response = .error(Hub.protocolError(error))
            }
            respond(context: context, head: head, response: response, keepAlive: head.isKeepAlive)
        }
    }

    private func respond(context: ChannelHandlerContext, head: HTTPRequestHead, response: HTTPResponse, keepAlive: Bool) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: response.contentType)
        headers.add(name: "content-length", value: String(response.body.count))
        SecurityHeaders.add(to: &headers)
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if head.method != .HEAD, !response.body.isEmpty {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))), promise: nil)
        }
        let channel = context.channel
        let loop = context.eventLoop
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { [self] _ in
            if !keepAlive {
                // A lingering close: only our side ends now, so that a body the client is
                // still sending (a request refused from its head) is read and dropped rather
                // than answered with a TCP reset, which can destroy the response before the
                // client reads it (seen as "no answer" under load). The client closes when it
                // has the response; the connection is closed for good 2 s later at the latest.
                channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
                loop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
            } else if case .responding = stage {
                stage = .idle
            }
        }
    }
}

@available(*, unavailable)
extension HTTPHandler: Sendable {}
