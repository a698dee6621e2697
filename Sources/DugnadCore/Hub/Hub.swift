import DugnadProtocol
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The hub, independent of sockets: channels, memberships, presence, rate limits and the
/// path from a command to durable storage and out to every subscriber.
///
/// Threading, in one sentence each: the store is touched only by the writer's queue and
/// the read thread pool; channel, membership and presence caches are behind locks; each
/// loop's subscriptions are confined to that loop (`LoopRouter`).
public final class Hub: Sendable {
    public let configuration: HubConfiguration
    public let store: any Store
    public let writer: BatchingWriter
    public let bus: any EventBus
    public let local: LocalFanout
    public let metrics: HubMetrics
    public let group: any EventLoopGroup
    public let logger: Logger
    let readPool: NIOThreadPool
    let channelCache = NIOLockedValueBox<[String: ChannelRecord]>([:])
    let membershipCache = NIOLockedValueBox<[String: CachedMemberships]>([:])
    let presenceState: NIOLockedValueBox<PresenceState>
    /// Taken only inside `presenceState`'s lock.
    let presencePacer: NIOLockedValueBox<PresencePacer>
    private let timers = NIOLockedValueBox<[RepeatedTask]>([])
    let announcementLive = NIOLockedValueBox(AnnouncementLiveState())
    /// Per-user rate budgets (all of a user's connections on this node share them).
    public let budgets: UserBudgets
    /// At most one `typing` per user and channel per interval.
    let typingGate: TypingGate
    /// This node's place in the audit log (nil until `start()` read where it ends).
    let auditFollower = NIOLockedValueBox<AuditFollower?>(nil)

    /// The memberships of users connected to this node, with how each came about, so that
    /// access checks need no read.
    struct CachedMemberships: Sendable {
        var channels: [String: MembershipKind]
        var connections: Int
    }

    /// Builds a hub on `store`. Call `start()` before serving and `shutdown()` at the end.
    /// `makeBus` wraps the local fan-out (for several nodes); by default events stay local.
    /// `frameCompressor`: permessage-deflate for the connections that negotiated it (nil:
    /// every connection gets the plain frames).
    public init(
        configuration: HubConfiguration, store: any Store, group: any EventLoopGroup, metricsFactory: any MetricsFactory,
        logger: Logger, makeBus: (@Sendable (LocalFanout) -> any EventBus)? = nil,
        frameCompressor: (any FrameCompressor)? = nil
    ) {
        let metrics = HubMetrics(factory: metricsFactory)
        let refusals = ThrottledWarning("the writer is full: writes refused (dugnad_writes_refused_total)")
        self.configuration = configuration
        self.store = store
        self.group = group
        self.metrics = metrics
        self.logger = logger
        let window = TimeAmount.milliseconds(max(0, configuration.fanoutFlushWindowMillis))
        let local = LocalFanout(group: group, flushWindow: window, compressor: frameCompressor) { deliveries, messages in
            if deliveries > 0 { metrics.fanoutDeliveries.increment(by: Int64(deliveries)) }
            if messages > 0 { metrics.messagesOut.increment(by: Int64(messages)) }
        }
        self.local = local
        let bus = makeBus?(local) ?? local
        self.bus = bus
        self.presenceState = NIOLockedValueBox(PresenceState(sharedWithOtherNodes: bus.sharesPresence))
        self.presencePacer = NIOLockedValueBox(
            PresencePacer(
                deliveriesPerSecond: configuration.presenceDeliveriesPerSecond,
                tickMillis: configuration.presenceFlushMillis,
                rush: PresencePacer.Rush(
                    openingsPerSecond: configuration.presenceRushOpeningsPerSecond,
                    deliveriesPerSecond: configuration.presenceRushDeliveriesPerSecond)))
        self.writer = BatchingWriter(
            store: store, configuration: configuration.writer, logger: logger,
            onBatch: { size, failed in
                metrics.batchSize.record(size)
                if failed { metrics.batchFailures.increment() }
            },
            onRefused: { op in
                metrics.writesRefused.increment()
                refusals.note(op.action, logger: logger)
            },
            wakeAtEndOfPass: { loop in !local.hasQueuedWork(on: loop) },
            afterBatch: { events in bus.publish(events) })
        self.readPool = NIOThreadPool(numberOfThreads: max(1, configuration.readThreads))
        self.budgets = UserBudgets(rates: [
            .command: .init(perSecond: configuration.commandRate, burst: configuration.commandBurst),
            .publish: .init(perSecond: configuration.publishRate, burst: configuration.publishBurst),
            .announce: .init(perSecond: configuration.announcesPerMinute / 60, burst: configuration.announcesPerMinute),
            // Spacing only: the daily quota is counted in storage.
            .channelCreation: .init(perSecond: 1, burst: 5),
            .search: .init(perSecond: configuration.searchRate, burst: configuration.searchBurst),
        ])
        self.typingGate = TypingGate(intervalMillis: configuration.typingIntervalMillis)
    }

    /// Prepares storage (migrations, sessions a crash left open) and starts the timers.
    public func start() throws {
        try store.prepare()
        readPool.start()
        try bus.start(hub: self)
        let loop = group.next()
        let flush = loop.scheduleRepeatedTask(
            initialDelay: .milliseconds(configuration.presenceFlushMillis),
            delay: .milliseconds(configuration.presenceFlushMillis)
        ) { [self] _ in flushPresence() }
        let heartbeat = loop.scheduleRepeatedTask(
            initialDelay: .seconds(configuration.sessionHeartbeatSeconds),
            delay: .seconds(configuration.sessionHeartbeatSeconds)
        ) { [self] _ in writer.submit(.heartbeat(at: WallClock.nowMillis())) }
        let stats = loop.scheduleRepeatedTask(
            initialDelay: .milliseconds(configuration.statsIntervalMillis),
            delay: .milliseconds(configuration.statsIntervalMillis)
        ) { [self] _ in flushAnnouncementStats() }
        let urgentEvery = max(1_000, min(60_000, configuration.urgentResendMillis / 4))
        let urgent = loop.scheduleRepeatedTask(
            initialDelay: .milliseconds(urgentEvery), delay: .milliseconds(urgentEvery)
        ) { [self] _ in resendUrgentAnnouncements() }
        let revocations = loop.scheduleRepeatedTask(
            initialDelay: .milliseconds(configuration.keyRevocationCheckMillis),
            delay: .milliseconds(configuration.keyRevocationCheckMillis)
        ) { [self] _ in closeRevokedKeys() }
        // Admin actions taken elsewhere are applied from the log's end as it is now.
        let auditEnd = try store.latestAuditSeq()
        auditFollower.withLockedValue { $0 = AuditFollower(lastSeq: auditEnd) }
        let governance = loop.scheduleRepeatedTask(
            initialDelay: .milliseconds(configuration.governanceCheckMillis),
            delay: .milliseconds(configuration.governanceCheckMillis)
        ) { [self] _ in followAudit() }
        let sweep = loop.scheduleRepeatedTask(initialDelay: .seconds(5), delay: .seconds(5)) { [self] _ in
            let now = NIODeadline.now().uptimeNanoseconds
            budgets.forgetFull(now: now)
            typingGate.forgetOld(now: now)
        }
        timers.withLockedValue { $0 = [flush, heartbeat, stats, urgent, revocations, governance, sweep] }
    }

    /// Stops timers, commits everything queued, and stops the readers.
    public func shutdown() async {
        for timer in timers.withLockedValue({ $0 }) { timer.cancel() }
        flushPresence(forced: true)
        writer.close()
        await writer.flush()
        bus.stop()
        try? await readPool.shutdownGracefully()
        store.close()
    }

    /// True when storage can take writes and the bus reaches the other nodes (for `/readyz`).
    public func isReady() async -> Bool {
        guard bus.isHealthy else { return false }
        guard writer.isHealthy else {
            // A failed batch marks the writer unhealthy until the next commit; probe storage
            // directly so that readiness comes back as soon as the disk has room again.
            return (try? await read { store in try store.checkWritable() }) != nil
        }
        return true
    }

    /// An authenticator whose storage lookups (API keys) run on this hub's read pool.
    public func makeAuthenticator(verifier: TokenVerifier) -> Authenticator {
        Authenticator(verifier: verifier, store: store, readPool: readPool)
    }

    // MARK: - Storage access off the event loops

    /// Runs a blocking read on the read pool and completes on `loop`.
    public func read<T: Sendable>(on loop: any EventLoop, _ body: @escaping @Sendable (any Store) throws -> T)
        -> EventLoopFuture<T>
    {
        let store = self.store
        return readPool.runIfActive(eventLoop: loop) { try body(store) }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any Store) throws -> T) async throws -> T {
        try await read(on: group.next(), body).get()
    }

    /// Queues a write; the future completes on `loop` after commit. `after` runs on the
    /// writer's queue right after commit and may add fan-out events (in commit order).
    /// With a `ticket`, the write is handed to the writer only in its connection's order
    /// (`WriteOrder`).
    public func write(
        _ op: WriteOp, on loop: any EventLoop, ticket: WriteTicket? = nil,
        after: (@Sendable (WriteOutcome, inout BatchingWriter.PostCommit) -> Void)? = nil
    ) -> EventLoopFuture<WriteOutcome> {
        let promise = loop.makePromise(of: WriteOutcome.self)
        let writer = self.writer
        let submit: @Sendable () -> Void = {
            let queued = writer.submit(op) { result, post in
                switch result {
                case .success(let outcome):
                    after?(outcome, &post)
                    promise.succeed(outcome)
                case .failure(let error):
                    promise.fail(error)
                }
            }
            if !queued {
                promise.fail(ProtocolError(.rateLimited, "the hub is busy; try again shortly", retryAfterMs: 200))
            }
        }
        if let ticket { ticket.whenTurn(submit) } else { submit() }
        return promise.futureResult
    }

    // MARK: - Channels

    /// The channel from cache or storage; nil when it does not exist.
    public func channel(named name: String, on loop: any EventLoop) -> EventLoopFuture<ChannelRecord?> {
        if let cached = channelCache.withLockedValue({ $0[name] }) {
            return loop.makeSucceededFuture(cached)
        }
        return read(on: loop) { store in try store.channel(named: name) }.map { [self] record in
            if let record { cacheChannel(record) }
            return record
        }
    }

    /// Bounded: past `maxCachedChannels` the cache starts over (a channel the hub needs
    /// again is one indexed read away), so creating channels cannot grow it without end.
    func cacheChannel(_ record: ChannelRecord) {
        let limit = configuration.maxCachedChannels
        channelCache.withLockedValue { cache in
            if let existing = cache[record.name], existing.epoch == record.epoch, existing.lastSeq > record.lastSeq {
                return
            }
            if cache[record.name] == nil, cache.count >= limit { cache.removeAll(keepingCapacity: true) }
            cache[record.name] = record
        }
    }

    func forgetChannel(_ name: String) {
        _ = channelCache.withLockedValue { $0.removeValue(forKey: name) }
    }

    func noteDurable(_ message: StoredMessage) {
        channelCache.withLockedValue { cache in
            if var record = cache[message.channel], record.lastSeq < message.seq {
                record.lastSeq = message.seq
                cache[message.channel] = record
            }
        }
    }

    // MARK: - Memberships

    /// How `userID` is a member of `channel` (nil: not at all), from the cache of
    /// connected users or from storage.
    public func membershipKind(userID: String, channel: String, on loop: any EventLoop) -> EventLoopFuture<MembershipKind?> {
        if let cached = membershipCache.withLockedValue({ $0[userID]?.channels }) {
            return loop.makeSucceededFuture(cached[channel])
        }
        return read(on: loop) { store in try store.membershipKind(userID: userID, channel: channel) }
    }

    func retainMemberships(userID: String, memberships: [MembershipRecord]) {
        membershipCache.withLockedValue { cache in
            var entry = cache[userID] ?? CachedMemberships(channels: [:], connections: 0)
            entry.connections += 1
            for membership in memberships { entry.channels[membership.channel.name] = membership.kind }
            cache[userID] = entry
        }
    }

    func releaseMemberships(userID: String) {
        membershipCache.withLockedValue { cache in
            guard var entry = cache[userID] else { return }
            entry.connections -= 1
            cache[userID] = entry.connections > 0 ? entry : nil
        }
    }

    /// Records a membership change of a connected user: `kind` nil for one that ended. A
    /// join never downgrades a grant.
    func noteMembership(userID: String, channel: String, kind: MembershipKind?) {
        membershipCache.withLockedValue { cache in
            guard var entry = cache[userID] else { return }
            if let kind {
                if entry.channels[channel] != .granted { entry.channels[channel] = kind }
            } else {
                entry.channels[channel] = nil
            }
            cache[userID] = entry
        }
    }

    // MARK: - Presence

    public func presence(channel: String) -> (members: [PresenceState.Member], count: Int, countsOnly: Bool) {
        presenceState.withLockedValue { state in
            let count = state.count(channel: channel)
            let countsOnly = count > configuration.presenceListLimit
            return (countsOnly ? [] : state.members(channel: channel), count, countsOnly)
        }
    }

    /// Counts a new connection of `userID` if the user has fewer than `limit`: check and
    /// count happen under one lock, so simultaneous connections cannot slip past the limit.
    /// A reserved connection is released by `Session.end()` (or `releaseConnection`).
    public func reserveConnection(of userID: String, limit: Int) -> Bool {
        presenceState.withLockedValue { state in
            guard state.connections(of: userID) < limit else { return false }
            state.connect(userID: userID)
            return true
        }
    }

    /// Gives back a slot reserved for a connection that never became a session.
    public func releaseConnection(of userID: String) {
        presenceState.withLockedValue { $0.disconnect(userID: userID) }
    }

    public func isOnline(_ userID: String) -> Bool {
        presenceState.withLockedValue { $0.isOnline(userID) }
    }

    /// Sends the coalesced presence diffs to this node's subscribers, and this node's own
    /// changes to the other nodes (each node computes the diffs of the union for its own
    /// subscribers, so diffs themselves never cross nodes).
    /// A flush waits for `PresencePacer` unless it is `forced` (at shutdown).
    func flushPresence(forced: Bool = false) {
        let limit = configuration.presenceListLimit
        let now = NIODeadline.now().uptimeNanoseconds
        let (diffs, changes) = presenceState.withLockedValue { state in
            let due =
                forced
                || presencePacer.withLockedValue {
                    $0.admit(audience: state.pendingAudience, opened: state.connectionsOpened, now: now)
                }
            return (due ? state.drainDiffs() : [], state.drainOutgoing())
        }
        if !changes.isEmpty { bus.publishPresence(changes) }
        guard !diffs.isEmpty else { return }
        local.publish(
            diffs.map { diff in
                FanoutEvent(
                    target: .channel(diff.channel, exceptUser: nil),
                    frame: EventEncoding.presenceDiffEvent(diff, countsOnly: diff.count > limit))
            })
    }
}
