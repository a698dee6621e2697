import NIOCore

/// Delivers events to this process's connections through each event loop's mailbox
/// (`LoopMailbox`) and `LoopRouter`: at most one drain task per loop at a time, however
/// many producers post.
public final class LocalFanout: EventBus {
    private struct Route {
        let loop: any EventLoop
        let router: NIOLoopBoundBox<LoopRouter>
        let mailbox: LoopMailbox
    }

    private let routers: [Route]
    private let onDelivered: @Sendable (_ deliveries: Int, _ messages: Int) -> Void

    /// One router per loop of `group`; the set of loops is fixed for the life of the hub.
    /// `flushWindow`: see `HubConfiguration.fanoutFlushWindowMillis` (zero: flush at once).
    public init(
        group: any EventLoopGroup, flushWindow: TimeAmount = .zero,
        onDelivered: @escaping @Sendable (_ deliveries: Int, _ messages: Int) -> Void = { _, _ in }
    ) {
        var routers: [Route] = []
        for loop in group.makeIterator() {
            let router = LoopRouter(loop: loop, flushWindow: flushWindow)
            routers.append(
                Route(
                    loop: loop, router: NIOLoopBoundBox.makeBoxSendingValue(router, eventLoop: loop),
                    mailbox: LoopMailbox()))
        }
        self.routers = routers
        self.onDelivered = onDelivered
    }

    /// The router of `loop`; call only on that loop.
    public func router(for loop: any EventLoop) -> LoopRouter {
        for route in routers where route.loop === loop {
            return route.router.value
        }
        preconditionFailure("event loop not part of the hub's group")
    }

    public func publish(_ events: [FanoutEvent]) {
        guard !events.isEmpty else { return }
        // Runs for the same recipients (a burst of messages in one channel) become one
        // buffer, built here once for every loop: one write per connection per run.
        let events = FanoutEvent.coalesced(events)
        post(.events(events))
    }

    /// Runs `body` with each loop's router, on that loop, in order with the events posted
    /// before and after it (a removed member gets nothing published after the removal).
    public func forEachRouter(_ body: @escaping @Sendable (LoopRouter) -> Void) {
        post(.task(body))
    }

    /// What waits for delivery on the loop furthest behind.
    public struct Backlog: Sendable, Equatable {
        /// Bytes of frames queued in its mailbox.
        public var bytes: Int
        /// How long its oldest queued item has waited, in milliseconds.
        public var waitedMillis: Int64

        public init(bytes: Int, waitedMillis: Int64) {
            self.bytes = bytes
            self.waitedMillis = waitedMillis
        }
    }

    /// The largest backlog among the loops. A loop that keeps up drains its mailbox before
    /// anything waits long; one that cannot shows it here before its connections lag by
    /// seconds.
    public func backlog(now: NIODeadline = .now()) -> Backlog {
        var result = Backlog(bytes: 0, waitedMillis: 0)
        for route in routers {
            let backlog = route.mailbox.backlog
            result.bytes = max(result.bytes, backlog.bytes)
            if let oldest = backlog.oldest {
                result.waitedMillis = max(result.waitedMillis, (now - oldest).nanoseconds / 1_000_000)
            }
        }
        return result
    }

    private func post(_ item: LoopMailbox.Item) {
        let now = NIODeadline.now()
        for route in routers where route.mailbox.post(item, now: now) {
            // Always a new task, even on the current loop: delivery must never run inside
            // a handler callback, where a flush could re-enter the router.
            let onDelivered = self.onDelivered
            route.loop.execute { Self.drain(route.mailbox, into: route.router, on: route.loop, onDelivered) }
        }
    }

    /// Deliveries one drain makes before it lets the loop do its I/O (reading publishers'
    /// frames, writing to connections whose socket was full) and goes on in a new task.
    /// Measured: draining all that piled up in one pass, without this bound, cut the
    /// delivered rate of the groups overload (10,000 subscribers in 100 channels) from
    /// 916,000/s to 280,000–550,000/s, with slow-consumer closes.
    static let deliveriesPerDrain = 32_768

    /// Events a drain hands the router at a time, so that the bound above is checked often.
    static let eventsPerSlice = 64

    private static func drain(
        _ mailbox: LoopMailbox, into router: NIOLoopBoundBox<LoopRouter>, on loop: any EventLoop,
        _ onDelivered: @escaping @Sendable (_ deliveries: Int, _ messages: Int) -> Void
    ) {
        let since = NIODeadline.now()
        let items = mailbox.take()
        var budget = deliveriesPerDrain
        for (index, item) in items.enumerated() {
            switch item {
            case .events(let events):
                var start = 0
                while start < events.count {
                    guard budget > 0 else {
                        let rest = [LoopMailbox.Item.events(Array(events[start...]))] + items[(index + 1)...]
                        mailbox.putBack(rest, since: since)
                        loop.execute { drain(mailbox, into: router, on: loop, onDelivered) }
                        return
                    }
                    let end = min(events.count, start + eventsPerSlice)
                    let counts = router.value.deliver(Array(events[start..<end]))
                    onDelivered(counts.deliveries, counts.messages)
                    budget -= max(1, counts.deliveries)
                    start = end
                }
            case .task(let body):
                body(router.value)
            }
        }
    }
}
