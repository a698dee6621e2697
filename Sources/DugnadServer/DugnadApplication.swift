import AsyncHTTPClient
import DugnadCore
import DugnadOIDC
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Prometheus

/// A running hub: storage, hub and the HTTP/WebSocket server on one port. `main` and the
/// tests both start it through `start(configuration:)` (tests pass port 0).
public final class DugnadApplication: Sendable {
    public let hub: Hub
    /// The port actually bound (useful when the configuration asked for 0).
    public let port: Int
    public let configuration: ServerConfiguration
    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: any Channel
    private let app: AppContext
    private let filePool: NIOThreadPool
    /// The certificate new connections get; nil when the port speaks plain HTTP.
    private let tls: ReloadableTLSContext?
    /// The client to the OpenID provider; nil without sign-in through one.
    private let providerHTTP: HTTPClient?

    private init(
        hub: Hub, port: Int, configuration: ServerConfiguration, group: MultiThreadedEventLoopGroup,
        serverChannel: any Channel, app: AppContext, filePool: NIOThreadPool, tls: ReloadableTLSContext?,
        providerHTTP: HTTPClient?
    ) {
        self.hub = hub
        self.port = port
        self.configuration = configuration
        self.group = group
        self.serverChannel = serverChannel
        self.app = app
        self.filePool = filePool
        self.tls = tls
        self.providerHTTP = providerHTTP
    }

    /// Starts the hub on `store` (which it prepares, and closes at shutdown) and binds the
    /// port. `makeBus` wraps the local fan-out for several nodes (nil: a node alone). The
    /// caller, the CLI or a test, chose and built the engine; the server never knows which.
    public static func start(
        configuration: ServerConfiguration, store: any Store,
        makeBus: (@Sendable (LocalFanout) -> any EventBus)? = nil, logger: Logger = Logger(label: "dugnad")
    ) async throws -> DugnadApplication {
        let verifier: TokenVerifier
        let tls: ReloadableTLSContext?
        do {
            verifier = try await TokenVerifier(configuration: configuration.tokens)
            // Before anything is opened: a pair that cannot serve stops the start with its reason.
            tls = try configuration.tls.map { files throws(TLSSetupError) in try ReloadableTLSContext(files: files) }
            if let oidc = configuration.oidc {
                if let problem = oidc.problem() { throw ConfigurationError(problem) }
                // The hub mints its own session tokens, so it must hold the signing secret.
                guard configuration.tokens.algorithm == .hs256, configuration.tokens.secret != nil else {
                    throw ConfigurationError("--oidc-issuer needs HS256 (the default): the hub signs its own session tokens")
                }
            }
        } catch {
            store.close()
            throw error
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoops))
        let registry = PrometheusCollectorRegistry()
        var hubConfiguration = configuration.hub
        // No reply alone may come near the outbound limit (it would close the connection
        // with 4008, and the same request after the reconnect would again).
        hubConfiguration.maxReplyBytes = min(hubConfiguration.maxReplyBytes, configuration.outboundLimitBytes / 2)
        let compressor =
            configuration.permessageDeflate
            ? DeflateFrameCompressor(group: group, thresholdBytes: configuration.compressionThresholdBytes) : nil
        let hub = Hub(
            configuration: hubConfiguration, store: store, group: group,
            metricsFactory: PrometheusMetricsFactory(registry: registry), logger: logger, makeBus: makeBus,
            frameCompressor: compressor)
        do {
            try hub.start()
        } catch {
            store.close()
            try? await group.shutdownGracefully()
            throw error
        }
        do {
            try await hub.createDefaultChannels()
        } catch {
            await hub.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        let authenticator = hub.makeAuthenticator(verifier: verifier)
        let filePool = NIOThreadPool(numberOfThreads: 1)
        filePool.start()
        var providerHTTP: HTTPClient?
        var signIn: SignInService?
        if let oidc = configuration.oidc, let secret = configuration.tokens.secret {
            let http = ProviderClient.makeHTTPClient(group: group)
            providerHTTP = http
            // The provider is first asked at the first sign-in, not here: a hub whose
            // provider is down still starts, and serves everyone with a token.
            signIn = SignInService(
                configuration: oidc, provider: ProviderClient(configuration: oidc, http: http), secret: secret, logger: logger)
        }
        let app = AppContext(
            configuration: configuration, hub: hub, authenticator: authenticator, registry: registry, logger: logger,
            fileReader: StaticFiles(webRoot: configuration.webRoot, pool: filePool), group: group, compressor: compressor,
            signIn: signIn)
        let serverChannel: any Channel
        do {
            serverChannel = try await bootstrap(app: app, group: group, tls: tls)
                .bind(host: configuration.host, port: configuration.port).get()
        } catch {
            await hub.shutdown()
            try? await providerHTTP?.shutdown()
            try? await filePool.shutdownGracefully()
            try? await group.shutdownGracefully()
            throw error
        }
        let port = serverChannel.localAddress?.port ?? configuration.port
        return DugnadApplication(
            hub: hub, port: port, configuration: configuration, group: group, serverChannel: serverChannel, app: app,
            filePool: filePool, tls: tls, providerHTTP: providerHTTP)
    }

    private static func bootstrap(app: AppContext, group: MultiThreadedEventLoopGroup, tls: ReloadableTLSContext?)
        -> ServerBootstrap
    {
        let configuration = app.configuration
        let limiter = AddressLimiter(limit: configuration.maxConnectionsPerAddress)
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A fixed kernel send buffer: left to autotuning it grows to 4 MiB per socket, so
            // a thousand stalled readers would pin gigabytes of kernel memory and slow every
            // other connection. The outbound limit (NIO's queue) then bounds the rest.
            .childChannelOption(.socketOption(.so_sndbuf), value: configuration.socketSendBufferBytes)
            .childChannelOption(
                .writeBufferWaterMark,
                value: .init(low: configuration.outboundLimitBytes / 2, high: configuration.outboundLimitBytes)
            )
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Each connection keeps its receive buffer between reads. Clients send small
            // commands, so start at 512 bytes (NIO's default is 2,048: a quarter of an idle
            // connection's memory); the allocator still grows it for larger reads.
            .childChannelOption(
                .recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)
            )
            .childChannelInitializer { channel in
                let upgrader = WebSocketServerUpgrader(
                    shouldUpgrade: { channel, head in
                        var headers = HTTPHeaders()
                        switch WebSocketUpgrade.decide(head, configuration: configuration) {
                        case .refuse:
                            return channel.eventLoop.makeSucceededFuture(nil)
                        case .echo:
                            break
                        case .accept(let subprotocol):
                            if let subprotocol { headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol) }
                        }
                        if let deflate = WebSocketUpgrade.deflate(head, configuration: configuration) {
                            headers.add(name: "Sec-WebSocket-Extensions", value: deflate.responseHeader)
                        }
                        return channel.eventLoop.makeSucceededFuture(headers)
                    },
                    makeHandler: { channel, head in
                        // The same pure decisions as in `shouldUpgrade`, on the same head. The
                        // handler reads and writes frames itself: nothing else is added.
                        let deflate = WebSocketUpgrade.deflate(head, configuration: configuration)
                        if WebSocketUpgrade.decide(head, configuration: configuration) == .echo {
                            return EchoHandler(app: app, deflate: deflate)
                        }
                        return WebSocketHandler(app: app, initialToken: WebSocketUpgrade.token(from: head), deflate: deflate)
                    })
                return channel.eventLoop.makeCompletedFuture {
                    // TLS first: every handler after it, the admission handler's head scan
                    // included, sees plain bytes. A client that does not speak TLS fails the
                    // handshake, and NIOSSL closes its connection.
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.current)) }
                    try channel.pipeline.syncOperations.addHandler(
                        ConnectionAdmissionHandler(limiter: limiter, headerTimeout: .seconds(configuration.headerTimeoutSeconds)))
                    let httpHandler = HTTPHandler(app: app)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (
                            upgraders: [upgrader],
                            completionHandler: { context in
                                // Frames must not reach the HTTP handler once the socket speaks WebSocket.
                                if let http = try? context.pipeline.syncOperations.context(handlerType: HTTPHandler.self) {
                                    context.pipeline.syncOperations.removeHandler(context: http, promise: nil)
                                }
                                // WebSocket liveness is the ping/pong's business from here on.
                                if let idle = try? context.pipeline.syncOperations.context(handlerType: IdleStateHandler.self) {
                                    context.pipeline.syncOperations.removeHandler(context: idle, promise: nil)
                                }
                            }
                        ),
                        withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        IdleStateHandler(readTimeout: .seconds(configuration.httpIdleTimeoutSeconds)))
                    try channel.pipeline.syncOperations.addHandler(httpHandler)
                }
            }
    }

    /// True when the port speaks HTTPS and `wss://`.
    public var servesTLS: Bool { tls != nil }

    /// Reads the certificate and key files again (on SIGHUP, say): new connections get the new
    /// pair, open ones keep theirs. A pair that cannot serve (unreadable, expired, a key that
    /// is not the certificate's) is refused, logged with its reason and thrown; the old pair
    /// stays. Does nothing without TLS.
    public func reloadCertificate() async throws {
        guard let tls else { return }
        // Blocking file I/O: on the file thread, not an event loop or the cooperative pool.
        do {
            try await filePool.runIfActive { try tls.reload() }
            app.logger.notice("TLS certificate reloaded from \(tls.files.certificatePath)")
        } catch {
            app.logger.error("TLS certificate not reloaded, keeping the old one: \(error)")
            throw error
        }
    }

    /// Graceful shutdown: stop accepting, close every WebSocket with 1001, give clients a
    /// moment to go, commit everything queued, stop the threads.
    public func shutdown() async {
        try? await serverChannel.close()
        for channel in app.connections.all() {
            channel.pipeline.fireUserInboundEventTriggered(ShutdownEvent())
        }
        let deadline = ContinuousClock.now + .seconds(configuration.shutdownGraceSeconds)
        while app.connections.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for channel in app.connections.all() { try? await channel.close() }
        await hub.shutdown()
        try? await providerHTTP?.shutdown()
        try? await filePool.shutdownGracefully()
        try? await group.shutdownGracefully()
    }

    /// Request-body bytes the HTTP handlers hold right now (for tests).
    public var bodyBytesHeld: Int { app.bodyBudget.heldBytes }

    /// Open WebSocket connections (for tests and the bench).
    public var connectionCount: Int { app.connections.count }
    /// WebSocket connection handlers still in memory, closed connections included until
    /// they are freed (a leak check for tests).
    public var liveHandlerCount: Int { app.liveHandlers.withLockedValue { $0 } }
}
