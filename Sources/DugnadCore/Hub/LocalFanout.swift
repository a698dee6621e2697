import NIOConcurrencyHelpers
import NIOCore

/// Delivers events to this process's connections: one task per event loop per call,
/// each running that loop's `LoopRouter`.
public final class LocalFanout: EventBus {
    /// One loop's router and the events waiting for it. Events published while a delivery
    /// task is already queued for the loop join it, so a loop that falls behind delivers
    /// several commit batches in one pass (and `FanoutEvent.coalesced` joins their runs):
    /// at a few hundred messages a second each commit holds one message, and delivering
    /// each separately cost one write per subscriber per message.
    private struct Route {
        let loop: any EventLoop
        let router: NIOLoopBoundBox<LoopRouter>
        /// Events not yet handed to the loop, and whether a delivery task is queued.
        let pending: NIOLockedValueBox<(events: [FanoutEvent], scheduled: Bool)>
    }

    private let routers: [Route]
    private let onDelivered: @Sendable (_ deliveries: Int, _ messages: Int) -> Void

    /// One router per loop of `group`; the set of loops is fixed for the life of the hub.
    public init(
        group: any EventLoopGroup, onDelivered: @escaping @Sendable (_ deliveries: Int, _ messages: Int) -> Void = { _, _ in }
    ) {
        var routers: [Route] = []
        for loop in group.makeIterator() {
            routers.append(
                Route(
                    loop: loop, router: NIOLoopBoundBox.makeBoxSendingValue(LoopRouter(), eventLoop: loop),
                    pending: NIOLockedValueBox((events: [], scheduled: false))))
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
        let onDelivered = self.onDelivered
        for entry in routers {
            let schedule = entry.pending.withLockedValue { pending -> Bool in
                pending.events.append(contentsOf: events)
                if pending.scheduled { return false }
                pending.scheduled = true
                return true
            }
            guard schedule else { continue }
            let router = entry.router
            let pending = entry.pending
            // Always a new task, even on the current loop: delivery must never run inside
            // a handler callback, where a flush could re-enter the router.
            entry.loop.execute {
                let taken = pending.withLockedValue { pending -> [FanoutEvent] in
                    pending.scheduled = false
                    defer { pending.events.removeAll(keepingCapacity: true) }
                    return pending.events
                }
                // Runs for the same recipients (a burst of messages in one channel) become
                // one buffer: one write per connection per run.
                let counts = router.value.deliver(FanoutEvent.coalesced(taken))
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
