import Dispatch
import DugnadCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// The event bus of several hub nodes sharing one PostgreSQL database: every event is
/// delivered to this node's connections and sent to the other nodes with NOTIFY; what
/// the others send arrives on a LISTEN connection of its own (`BusListener`).
///
/// - Messages: local and remote message events go through one `MessageSequencer`, so
///   that each node delivers every channel's messages in seq order, once each, reading
///   from storage whatever a late or lost notification left out (and, after the LISTEN
///   connection was lost, everything after the last seq delivered of every channel).
/// - Other events (typing, reactions, receipts, announcements) cross best effort.
/// - Presence: each node sends its own changes, numbered, a heartbeat carrying the last
///   number, and a snapshot when asked (a node that starts, reconnects, or notices a
///   missing number asks). A node silent for `nodeTimeoutMillis` is forgotten, its users
///   leave, and its sessions are closed in storage so that `last_seen` is right.
/// - Announcement figures: "figures of X changed here"; each node recomputes its own.
///
/// Payloads are capped at 8,000 bytes: a batch becomes as few notifications as fit; a
/// message too large travels as (channel, seq) and is read from storage; any other item
/// too large goes through the spool table.
///
/// Threads: outgoing items queue behind a lock and are sent by one serial dispatch queue
/// (`outbound`); everything received, and the sequencing of local messages, runs on
/// another (`inbound`), which is also where storage is read, never on an event loop.
/// State is behind locks, each touched from one queue in practice.
public final class PostgresEventBus: EventBus {
    /// Settings of the bus. The defaults suit nodes on one network.
    public struct Configuration: Sendable {
        /// A node not heard from for this long is dead: its users' presence ends and its
        /// sessions are closed. Default 15 s.
        public var nodeTimeoutMillis: Int64 = 15_000
        /// How long a gap in a channel's seqs may stay open before it is read from
        /// storage (the missing notification is usually a moment behind). Default 100 ms.
        public var gapGraceMillis: Int64 = 100
        /// Most bytes of one notification's payload. Default 7,900 (PostgreSQL's limit is
        /// 8,000, less a margin).
        public var maxPayloadBytes = 7_900
        /// Most items waiting to be sent; beyond it new ones are dropped (and the drop is
        /// logged): messages are still read from storage by the other nodes at their next
        /// gap or reconnect. Default 100,000.
        public var maxQueuedItems = 100_000

        public init() {}

        /// Heartbeats, node expiry checks and dead-node sweeps run this often: a fifth
        /// of the node timeout (at least 200 ms), so a dead node is found within the
        /// timeout plus one interval.
        public var heartbeatMillis: Int64 { max(200, nodeTimeoutMillis / 5) }
    }

    public let nodeID: String
    public let configuration: Configuration
    let store: PostgresStore
    let local: LocalFanout
    let logger: Logger
    let channel: String
    let notifier: BlockingConnectionPool
    let outbound = DispatchQueue(label: "dugnad.bus.outbound")
    let inbound = DispatchQueue(label: "dugnad.bus.inbound")
    private let sweeper = DispatchQueue(label: "dugnad.bus.sweep")
    let outgoing = NIOLockedValueBox(Outgoing())
    let incoming: NIOLockedValueBox<Incoming>
    let hub = NIOLockedValueBox<Hub?>(nil)
    private let timers = NIOLockedValueBox<[RepeatedTask]>([])
    /// Set by `stop()`: blocks still queued then return without touching storage.
    let stopping = NIOLockedValueBox(false)
    var isStopping: Bool { stopping.withLockedValue { $0 } }
    private let idle = DispatchSemaphore(value: 0)
    let listener: BusListener

    struct Outgoing {
        var items: [BusItem] = []
        var draining = false
        var closed = false
        /// The number of this node's last presence item.
        var presenceCounter: Int64 = 0
        var dropped = 0
        var lastTrim: Int64 = 0
    }

    struct Incoming {
        var sequencer: MessageSequencer
        var nodes: [String: RemoteNode] = [:]
    }

    struct RemoteNode {
        var counter: Int64?
        var lastHeard: UInt64
    }

    /// A bus for `store`'s database, delivering locally through `local`. Nothing connects
    /// until the hub starts it.
    public init(store: PostgresStore, local: LocalFanout, configuration: Configuration = Configuration(), logger: Logger) {
        self.store = store
        self.local = local
        self.configuration = configuration
        self.logger = logger
        self.nodeID = store.configuration.nodeID
        self.channel = store.busChannel
        self.notifier = store.makeBusPool()
        self.incoming = NIOLockedValueBox(
            Incoming(sequencer: MessageSequencer(graceNanos: UInt64(max(0, configuration.gapGraceMillis)) * 1_000_000)))
        self.listener = BusListener(
            configuration: store.connectionConfiguration, group: store.group, channel: channel, logger: logger)
    }

    public var isHealthy: Bool { listener.isConnected }

    public var sharesPresence: Bool { true }

    // MARK: - Lifecycle

    public func start(hub: Hub) throws {
        self.hub.withLockedValue { $0 = hub }
        // Returns at once: serving before the LISTEN is in force loses nothing, because the
        // first `connected` catches every subscribed channel up from storage and asks the
        // other nodes for their presence; `/readyz` says 503 until then.
        listener.start(
            BusListener.Callbacks(
                notification: { [weak self] payload in self?.received(payload) },
                connected: { [weak self] in self?.listening() },
                disconnected: { [weak self] in self?.logger.warning("bus deaf until PostgreSQL is back") }))
        let loop = hub.group.next()
        let beat = TimeAmount.milliseconds(configuration.heartbeatMillis)
        let grace = TimeAmount.milliseconds(max(10, configuration.gapGraceMillis))
        let heartbeat = loop.scheduleRepeatedTask(initialDelay: beat, delay: beat) { [weak self] _ in self?.heartbeat() }
        let gaps = loop.scheduleRepeatedTask(initialDelay: grace, delay: grace) { [weak self] _ in self?.tick() }
        timers.withLockedValue { $0 = [heartbeat, gaps] }
    }

    public func stop() {
        // From here on no queued block touches storage: the hub closes the store (and shuts
        // down its event loops) as soon as this returns.
        stopping.withLockedValue { $0 = true }
        for timer in timers.withLockedValue({ $0 }) { timer.cancel() }
        enqueue([.goodbye])
        // Hands on what is queued (the goodbye last), waiting a few seconds at most.
        outbound.async { self.idle.signal() }
        _ = idle.wait(timeout: .now() + .seconds(3))
        outgoing.withLockedValue { $0.closed = true }
        // A drain still sending when the wait ran out stops at its next notification; this
        // waits for it (one query, bounded by the query timeout) so that nothing it does
        // meets the store's event loops after they are shut down (seen under load as
        // "Cannot schedule tasks on an EventLoop that has already shut down", signal 4).
        outbound.sync {}
        listener.stop()
        sweeper.sync {}
        inbound.sync {}
        notifier.close()
        hub.withLockedValue { $0 = nil }
    }

    // MARK: - Publishing

    public func publish(_ events: [FanoutEvent]) {
        guard !events.isEmpty else { return }
        var others: [FanoutEvent] = []
        var messages: [FanoutEvent] = []
        var items: [BusItem] = []
        items.reserveCapacity(events.count)
        for event in events {
            if let position = event.position {
                messages.append(event)
                let json = OutboundFrame.payloads(in: event.frame).first ?? []
                items.append(.message(channel: position.channel, seq: position.seq, json: json))
            } else {
                others.append(event)
                for json in OutboundFrame.payloads(in: event.frame) {
                    switch event.target {
                    case .channel(let name, let exceptUser):
                        items.append(.channelEvent(channel: name, exceptUser: exceptUser, json: json))
                    case .users(let users):
                        items.append(.usersEvent(users: users, json: json))
                    }
                }
            }
        }
        if !others.isEmpty { local.publish(others) }
        if !messages.isEmpty {
            let positioned = messages.compactMap { event in event.position.map { ($0, event) } }
            inbound.async { self.sequence(positioned) }
        }
        enqueue(items)
    }

    public func publishPresence(_ changes: [PresenceState.Change]) {
        guard !changes.isEmpty else { return }
        outgoing.withLockedValue { state in
            state.presenceCounter += 1
            append([.presence(counter: state.presenceCounter, changes: changes)], to: &state)
        }
        startDrain()
    }

    public func publishStatsChanged(_ announcementIDs: [String]) {
        enqueue([.statsChanged(announcementIDs)])
    }

    public func subscribed(channel: String, lastSeq: Int64) {
        inbound.async {
            var output = MessageSequencer.Output()
            let now = Self.now()
            self.incoming.withLockedValue {
                $0.sequencer.subscribed(channel: channel, lastSeq: lastSeq, now: now, into: &output)
            }
            self.finish(output)
        }
    }

    /// This node's presence, whole, numbered as of its last change item.
    func sendSnapshot() {
        guard let hub = hub.withLockedValue({ $0 }) else { return }
        outgoing.withLockedValue { state in
            append([.snapshot(counter: state.presenceCounter, hub.localPresenceSnapshot())], to: &state)
        }
        startDrain()
    }

    // MARK: - Timers

    private func heartbeat() {
        let counter = outgoing.withLockedValue { $0.presenceCounter }
        enqueue([.heartbeat(counter: counter)])
        inbound.async { self.expireSilentNodes() }
        sweeper.async { self.closeSessionsOfDeadNodes() }
    }

    private func tick() {
        inbound.async {
            var output = MessageSequencer.Output()
            let now = Self.now()
            self.incoming.withLockedValue { $0.sequencer.tick(now: now, into: &output) }
            self.finish(output)
        }
    }

    private func closeSessionsOfDeadNodes() {
        guard !isStopping else { return }
        do {
            let closed = try store.closeSessionsOfDeadNodes(
                now: WallClock.nowMillis(), timeoutMillis: configuration.nodeTimeoutMillis)
            if !closed.isEmpty {
                logger.info(
                    "closed the sessions of dead nodes",
                    metadata: ["sessions": "\(closed.count)", "nodes": "\(Set(closed.map(\.nodeID)).sorted())"])
            }
        } catch {
            logger.debug("could not sweep dead nodes", metadata: ["error": "\(error)"])
        }
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

extension PostgresEventBus {
    /// What `Hub.init(makeBus:)` takes: a bus between the nodes sharing `store`'s
    /// database, wrapped around the hub's local fan-out.
    public static func factory(
        store: PostgresStore, configuration: Configuration = Configuration(), logger: Logger
    ) -> @Sendable (LocalFanout) -> any EventBus {
        { local in PostgresEventBus(store: store, local: local, configuration: configuration, logger: logger) }
    }
}
