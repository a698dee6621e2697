import Dispatch
import DugnadCore
import DugnadSQLite
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOPosix
import Prometheus

@testable import DugnadServer

/// The real parts behind a channel handler under test, without a socket: a `Hub` on a
/// SQLite file in a fresh temporary folder, its authenticator, the static files, and an
/// `AppContext` that hands them to the handler, built as `DugnadApplication.start` builds
/// them. Nothing we ship is mocked.
///
/// `EmbeddedEventLoop` is not thread-safe, and the hub completes storage reads from its
/// thread pool and token checks from a task. So with `withEmbeddedLoop` the hub runs on a
/// group of its own and a test drives only paths that stay on the channel's loop (a
/// WebSocket before authentication, HTTP routes answered at once); a test that needs an
/// authenticated session runs the hub on a thread-safe `NIOAsyncTestingEventLoop`
/// (`start(hubGroup:)`), whose clock the test moves as well.
final class HandlerHarness: Sendable {
    let configuration: ServerConfiguration
    let hub: Hub
    let directory: String
    private let authenticator: Authenticator
    private let registry: PrometheusCollectorRegistry
    private let logger: Logger
    private let files: StaticFiles
    private let filePool: NIOThreadPool
    private let ownGroup: MultiThreadedEventLoopGroup?

    private init(
        configuration: ServerConfiguration, hub: Hub, directory: String, authenticator: Authenticator,
        registry: PrometheusCollectorRegistry, logger: Logger, files: StaticFiles, filePool: NIOThreadPool,
        ownGroup: MultiThreadedEventLoopGroup?
    ) {
        self.configuration = configuration
        self.hub = hub
        self.directory = directory
        self.authenticator = authenticator
        self.registry = registry
        self.logger = logger
        self.files = files
        self.filePool = filePool
        self.ownGroup = ownGroup
    }

    /// Starts a hub on a fresh SQLite file, on `hubGroup` (nil: one thread of its own), with
    /// the live tests' configuration adjusted by `configure`.
    static func start(
        hubGroup: (any EventLoopGroup)? = nil, configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> HandlerHarness {
        var configuration = TestHub.makeConfiguration()
        configure(&configuration)
        let verifier = try await TokenVerifier(configuration: configuration.tokens)
        let directory = TestHub.temporaryDirectory()
        let ownGroup = hubGroup == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        guard let group = hubGroup ?? ownGroup else { throw TestFailure("no event loop group for the hub") }
        var logger = Logger(label: "dugnad-handler-test")
        logger.logLevel = .warning
        let registry = PrometheusCollectorRegistry()
        let hub = Hub(
            configuration: configuration.hub, store: try SQLiteStore(path: directory + "/dugnad.sqlite"), group: group,
            metricsFactory: PrometheusMetricsFactory(registry: registry), logger: logger)
        try hub.start()
        let filePool = NIOThreadPool(numberOfThreads: 1)
        filePool.start()
        return HandlerHarness(
            configuration: configuration, hub: hub, directory: directory,
            authenticator: hub.makeAuthenticator(verifier: verifier),
            registry: registry, logger: logger, files: StaticFiles(webRoot: configuration.webRoot, pool: filePool),
            filePool: filePool, ownGroup: ownGroup)
    }

    /// The context of a server whose connections run on `loop` (its `ConnectionTicker` lives there).
    func makeApp(on loop: any EventLoop) -> AppContext {
        AppContext(
            configuration: configuration, hub: hub, authenticator: authenticator, registry: registry, logger: logger,
            fileReader: files, group: loop,
            compressor: configuration.permessageDeflate
                ? DeflateFrameCompressor(group: loop, thresholdBytes: configuration.compressionThresholdBytes) : nil)
    }

    /// Occupies the static files' only thread until the returned semaphore is signalled, so
    /// that a file read asked for meanwhile waits: a response on its way.
    func holdFileReads() -> DispatchSemaphore {
        let release = DispatchSemaphore(value: 0)
        filePool.submit { _ in release.wait() }
        return release
    }

    func stop() async {
        await hub.shutdown()
        try? await filePool.shutdownGracefully()
        try? await ownGroup?.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` on a fresh `EmbeddedEventLoop`, with an `AppContext` on it, then stops
    /// everything. `body` is synchronous: the embedded loop may only be used from the thread
    /// it was made on, and an `await` could resume the test elsewhere. The loop is shut down
    /// (its remaining tasks cancelled) whatever `body` does.
    static func withEmbeddedLoop(
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (EmbeddedEventLoop, AppContext) throws -> Void
    ) async throws {
        let harness = try await start(configure: configure)
        let outcome = Result { () throws in
            let loop = EmbeddedEventLoop()
            defer { try? loop.syncShutdownGracefully() }
            try body(loop, harness.makeApp(on: loop))
        }
        await harness.stop()
        try outcome.get()
    }
}
