/// The seam for delivery beyond this process: the local bus hands events to this node's
/// event loops; a multi-node bus also forwards them to the other nodes, and brings their
/// presence and announcement figures into this node's hub.
public protocol EventBus: Sendable {
    /// Delivers events in order. Called from the writer's queue for durable events (in
    /// seq order) and from anywhere for ephemeral ones (typing, reactions, receipts).
    func publish(_ events: [FanoutEvent])

    /// Called by `Hub.start()` once storage is prepared: a multi-node bus connects and
    /// starts feeding other nodes' presence and figures into `hub`. Default: nothing.
    func start(hub: Hub) throws

    /// Called by `Hub.shutdown()` after the last commit, before storage closes: hands on
    /// what is queued (bounded by a short wait) and lets go of the hub. Default: nothing.
    func stop()

    /// False while the bus cannot reach the other nodes (`/readyz`). Default true.
    var isHealthy: Bool { get }

    /// Whether the bus carries this node's presence to other nodes (`publishPresence`):
    /// only then does the hub record its presence changes for it. Default false.
    var sharesPresence: Bool { get }

    /// This node's presence changed (coalesced, every `presenceFlushMillis`): the other
    /// nodes fold it into theirs. Default: nothing (one node has no one to tell).
    func publishPresence(_ changes: [PresenceState.Change])

    /// Announcement figures changed on this node (a receipt, a delivery): the other nodes
    /// recompute them from storage for their own watchers. Default: nothing.
    func publishStatsChanged(_ announcementIDs: [String])

    /// A connection of this node subscribed to `channel`, whose last seq was `lastSeq`
    /// when the join read it: a bus that orders messages starts the channel there if it
    /// has not seen it yet, so that no message after it is skipped. Default: nothing.
    func subscribed(channel: String, lastSeq: Int64)
}

extension EventBus {
    public func start(hub: Hub) throws {}
    public func stop() {}
    public var isHealthy: Bool { true }
    public var sharesPresence: Bool { false }
    public func publishPresence(_ changes: [PresenceState.Change]) {}
    public func publishStatsChanged(_ announcementIDs: [String]) {}
    public func subscribed(channel: String, lastSeq: Int64) {}
}
