import DugnadCore
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
    /// HTTP API rate limits, one bucket per caller (API key or user).
    let apiBuckets = NIOLockedValueBox<[String: TokenBucket]>([:])
    /// WebSocket handlers alive in memory (counted in `init` and `deinit`): once their
    /// connections are gone it must come back down, or something retains them.
    let liveHandlers = NIOLockedValueBox<Int>(0)
    /// One `ConnectionTicker` per event loop, made on first use.
    private let tickers = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<ConnectionTicker>]>([:])

    init(
        configuration: ServerConfiguration, hub: Hub, authenticator: Authenticator, registry: PrometheusCollectorRegistry,
        logger: Logger, fileReader: StaticFiles
    ) {
        self.configuration = configuration
        self.hub = hub
        self.authenticator = authenticator
        self.registry = registry
        self.logger = logger
        self.fileReader = fileReader
    }

    /// The ticker of `loop`; call on `loop`.
    func ticker(for loop: any EventLoop) -> ConnectionTicker {
        tickers.withLockedValue { tickers in
            if let existing = tickers[ObjectIdentifier(loop)] { return existing.value }
            let made = NIOLoopBound(ConnectionTicker(loop: loop), eventLoop: loop)
            tickers[ObjectIdentifier(loop)] = made
            return made.value
        }
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
