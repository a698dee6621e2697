import DugnadTokens
import NIOCore
import NIOPosix

/// The client side of a run: its event loops, one ``LoopStats`` per loop, and the opening,
/// commanding and closing of connections. Connection `i` lives on loop `i % threads`.
///
/// Sendable because everything in it is: the group, loop-bound stats (touched only on their
/// loop, through `submit`), and immutable settings.
final class ClientFleet: Sendable {
    let configuration: BenchConfiguration
    let group: MultiThreadedEventLoopGroup
    let loops: [any EventLoop]
    let stats: [NIOLoopBound<LoopStats>]
    let sources: SourceAddressPlan
    /// Every node's address: connection `i` goes to `targets[i % targets.count]`.
    let targets: [SocketAddress]
    /// Part of every `client_id`, so that a rerun is not deduplicated against an earlier run.
    let runID: String

    private init(
        configuration: BenchConfiguration, group: MultiThreadedEventLoopGroup, stats: [NIOLoopBound<LoopStats>],
        sources: SourceAddressPlan, targets: [SocketAddress]
    ) {
        self.configuration = configuration
        self.group = group
        self.loops = stats.map(\.eventLoop)
        self.stats = stats
        self.sources = sources
        self.targets = targets
        var generator = SystemRandomNumberGenerator()
        runID = String(generator.next() as UInt32, radix: 36)
    }

    static func start(configuration: BenchConfiguration) async throws -> ClientFleet {
        let targets: [SocketAddress]
        do {
            targets = try configuration.nodePorts.map { port in
                try SocketAddress.makeAddressResolvingHost(configuration.host, port: port)
            }
        } catch {
            throw BenchError.connection("cannot resolve \(configuration.host): \(error)")
        }
        let sources = try SourceAddressPlan(
            connections: configuration.peakConnections, requested: configuration.sourceAddresses,
            host: configuration.host, portRange: ProcessProbe.ephemeralPortCount())
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        var stats: [NIOLoopBound<LoopStats>] = []
        for loop in group.makeIterator() {
            stats.append(try await loop.submit { NIOLoopBound(LoopStats(), eventLoop: loop) }.get())
        }
        return ClientFleet(configuration: configuration, group: group, stats: stats, sources: sources, targets: targets)
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }

    /// Mints a token for `user` (HS256, valid well past the run).
    func token(user: String) async throws -> String {
        let ttl = Int64(configuration.warmup + configuration.duration + configuration.drainTimeout) + 3_600
        return try await TokenSigner.sign(
            secret: configuration.secret, sub: user, name: user, roles: [], channels: [], ttlSeconds: ttl)
    }

    /// Opens connection `index`: TCP connect, upgrade, welcome, the role's setup commands.
    /// Returns once it is ready; throws a ``BenchError`` if any step fails or the whole takes
    /// longer than ``BenchConfiguration/setupTimeout``.
    func connect(index: Int, user: String, role: ConnectionSpec.Role, channels: [String], publisherIndex: Int = 0)
        async throws -> any Channel
    {
        let slot = index % loops.count
        let loop = loops[slot]
        let loopStats = stats[slot]
        let spec = ConnectionSpec(
            host: configuration.host, port: configuration.port, path: configuration.path, token: try await token(user: user),
            role: role, channels: channels, index: publisherIndex, runID: runID, bodyBytes: configuration.bodyBytes,
            deflate: configuration.deflate, startedAt: NIODeadline.now().uptimeNanoseconds)
        let ready = loop.makePromise(of: Void.self)
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        BenchConnectionHandler(spec: spec, stats: loopStats.value, ready: ready))
                }
            }
        if let source = sources.address(for: index) {
            // Defer the port choice to connect(), so each source address can use the whole
            // ephemeral range towards the hub (Linux IP_BIND_ADDRESS_NO_PORT).
            let bindAddressNoPort = ChannelOptions.Types.SocketOption(
                level: NIOBSDSocket.OptionLevel.ip, name: NIOBSDSocket.Option(rawValue: 24))
            bootstrap = bootstrap.channelOption(bindAddressNoPort, value: 1).bind(to: source)
        }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(to: targets[index % targets.count]).get()
        } catch {
            ready.fail(error)
            loop.execute { loopStats.value.counters.connectFailures += 1 }
            throw BenchError.connection("cannot connect to \(configuration.url): \(error)")
        }
        let timeout = configuration.setupTimeout
        let timer = loop.scheduleTask(in: .nanoseconds(Int64(timeout * 1e9))) {
            ready.fail(BenchError.connection("no welcome or setup reply within \(Format.seconds(timeout))"))
        }
        do {
            try await ready.futureResult.get()
            timer.cancel()
            return channel
        } catch {
            timer.cancel()
            loop.execute { loopStats.value.counters.connectFailures += 1 }
            channel.close(promise: nil)
            throw error
        }
    }

    /// Opens `count` connections, `connectConcurrency` at a time, numbered from `firstIndex`;
    /// `describe` gives each one's user, role and channels. The first failure closes what was
    /// opened and is thrown.
    func open(
        count: Int, firstIndex: Int = 0,
        describe: @escaping @Sendable (Int) -> (user: String, role: ConnectionSpec.Role, channels: [String], publisher: Int)
    ) async throws -> [any Channel] {
        var opened: [any Channel] = []
        opened.reserveCapacity(count)
        do {
            try await withThrowingTaskGroup(of: (any Channel).self) { group in
                var next = 0
                func addNext() {
                    let offset = next
                    next += 1
                    group.addTask {
                        let (user, role, channels, publisher) = describe(offset)
                        return try await self.connect(
                            index: firstIndex + offset, user: user, role: role, channels: channels, publisherIndex: publisher)
                    }
                }
                while next < min(count, configuration.connectConcurrency) { addNext() }
                while let channel = try await group.next() {
                    opened.append(channel)
                    if next < count { addNext() }
                }
            }
        } catch {
            await close(opened)
            guard let failure = error as? BenchError, count > 1 else { throw error }
            throw BenchError.connection(
                "\(failure.description) (after \(Format.count(opened.count)) of \(Format.count(count)) connections were open)")
        }
        return opened
    }

    /// Tells every connection in `channels` to do `command`.
    func send(_ command: BenchCommand, to channels: [any Channel]) {
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(command) }
    }

    /// Closes the connections (close frame, then TCP) and waits until they are gone; each
    /// handler cuts the connection itself if the hub does not answer within 2 s.
    func close(_ channels: [any Channel]) async {
        send(.close, to: channels)
        for channel in channels { try? await channel.closeFuture.get() }
    }

    /// Every loop's counters, merged.
    func counters() async -> BenchCounters {
        var total = BenchCounters()
        for box in stats {
            if let counters = try? await box.eventLoop.submit({ box.value.counters }).get() { total.merge(counters) }
        }
        return total
    }

    /// Every loop's latency histograms, merged.
    func latencies() async -> BenchLatencies {
        var total = BenchLatencies()
        for box in stats {
            if let latencies = try? await box.eventLoop.submit({ box.value.latencies }).get() { total.merge(latencies) }
        }
        return total
    }

    /// Delivery latencies since the last call, merged.
    func recentDelivery() async -> LatencyRecorder {
        var total = LatencyRecorder()
        for box in stats {
            if let recent = try? await box.eventLoop.submit({ box.value.takeRecentDelivery() }).get() { total.add(recent) }
        }
        return total
    }

    /// Sets the measurement window on every loop (before publishing starts).
    func setWindow(_ window: MeasurementWindow) async {
        for box in stats {
            try? await box.eventLoop.submit { box.value.window = window }.get()
        }
    }
}
