import DugnadCore
import DugnadOIDC
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Prometheus

/// What every handler of one running server shares. Immutable after start, or behind a lock.
final class AppContext: Sendable {
    let configuration: ServerConfiguration
    let hub: Hub
    let authenticator: Authenticator
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    let connections = ConnectionRegistry()
    let fileReader: StaticFiles
    /// Request-body bytes held across all HTTP connections.
    let bodyBudget: HTTPBodyBudget
    /// HTTP API rate limits, one bucket per caller (API key or user).
    let apiBuckets = NIOLockedValueBox<[String: TokenBucket]>([:])
    /// WebSocket handlers alive in memory (counted in `init` and `deinit`): once their
    /// connections are gone it must come back down, or something retains them.
    let liveHandlers = NIOLockedValueBox<Int>(0)
    /// One `ConnectionTicker` per loop of the server's group, made up front as
    /// `LocalFanout` makes its routers (the set of loops is fixed), so a connection finds
    /// its loop's ticker without a lock.
    private let tickers: [ObjectIdentifier: NIOLoopBoundBox<ConnectionTicker>]
    /// permessage-deflate for replies and echoes (fan-out goes through the hub's cache);
    /// nil when the hub compresses nothing.
    let compressor: DeflateFrameCompressor?
    /// Sign-in with the OpenID provider; nil when `--oidc-issuer` is not given.
    let signIn: SignInService?

    init(
        configuration: ServerConfiguration, hub: Hub, authenticator: Authenticator, registry: PrometheusCollectorRegistry,
        logger: Logger, fileReader: StaticFiles, group: any EventLoopGroup, compressor: DeflateFrameCompressor? = nil,
        signIn: SignInService? = nil
    ) {
        self.configuration = configuration
        self.hub = hub
        self.authenticator = authenticator
        self.registry = registry
        self.logger = logger
        self.fileReader = fileReader
        self.bodyBudget = HTTPBodyBudget(limit: configuration.maxHTTPBodyBytesInFlight)
        var tickers: [ObjectIdentifier: NIOLoopBoundBox<ConnectionTicker>] = [:]
        for loop in group.makeIterator() {
            tickers[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(ConnectionTicker(loop: loop), eventLoop: loop)
        }
        self.tickers = tickers
        self.compressor = compressor
        self.signIn = signIn
    }

    /// The ticker of `loop`, one of the server group's loops; call on `loop`.
    func ticker(for loop: any EventLoop) -> ConnectionTicker {
        guard let ticker = tickers[ObjectIdentifier(loop)] else {
            preconditionFailure("a connection on a loop outside the server's group")
        }
        return ticker.value
    }
}

/// Open WebSocket channels, so that shutdown can close each with 1001.
final class ConnectionRegistry: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        channels.withLockedValue { $0[ObjectIdentifier(channel)] = channel }
    }

    func remove(_ channel: any Channel) {
        channels.withLockedValue { $0[ObjectIdentifier(channel)] = nil }
    }

    var count: Int { channels.withLockedValue { $0.count } }

    func all() -> [any Channel] {
        channels.withLockedValue { Array($0.values) }
    }
}
