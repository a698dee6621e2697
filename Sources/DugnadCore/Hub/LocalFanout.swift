import NIOCore

/// Delivers events to this process's connections: one task per event loop per call,
/// each running that loop's `LoopRouter`.
public final class LocalFanout: EventBus {
    private let routers: [(loop: any EventLoop, router: NIOLoopBoundBox<LoopRouter>)]
    private let onDelivered: @Sendable (_ deliveries: Int, _ messages: Int) -> Void

    /// One router per loop of `group`; the set of loops is fixed for the life of the hub.
    /// `flushWindow`: see `HubConfiguration.fanoutFlushWindowMillis` (zero: flush at once).
    public init(
        group: any EventLoopGroup, flushWindow: TimeAmount = .zero,
        onDelivered: @escaping @Sendable (_ deliveries: Int, _ messages: Int) -> Void = { _, _ in }
    ) {
        var routers: [(loop: any EventLoop, router: NIOLoopBoundBox<LoopRouter>)] = []
        for loop in group.makeIterator() {
            let router = LoopRouter(loop: loop, flushWindow: flushWindow)
            routers.append((loop, NIOLoopBoundBox.makeBoxSendingValue(router, eventLoop: loop)))
        }
        self.routers = routers
        self.onDelivered = onDelivered
    }

    /// The router of `loop`; call only on that loop.
    public func router(for loop: any EventLoop) -> LoopRouter {
        for entry in routers where entry.loop === loop {
            return entry.router.value
        }
        preconditionFailure("event loop not part of the hub's group")
    }

    public func publish(_ events: [FanoutEvent]) {
        guard !events.isEmpty else { return }
        // Runs for the same recipients (a burst of messages in one channel) become one
        // buffer, built here once for every loop: one write per connection per run.
        let events = FanoutEvent.coalesced(events)
        let onDelivered = self.onDelivered
        for entry in routers {
            let router = entry.router
            // Always a new task, even on the current loop: delivery must never run inside
            // a handler callback, where a flush could re-enter the router.
            entry.loop.execute {
                let counts = router.value.deliver(events)
                onDelivered(counts.deliveries, counts.messages)
            }
        }
    }

    /// Runs `body` with each loop's router, on that loop.
    public func forEachRouter(_ body: @escaping @Sendable (LoopRouter) -> Void) {
        for entry in routers {
            let router = entry.router
            entry.loop.execute { body(router.value) }
        }
    }
}
