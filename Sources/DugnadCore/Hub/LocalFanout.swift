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
    /// Compresses for connections with permessage-deflate; nil: the hub compresses nothing.
    private let compressor: (any FrameCompressor)?
    private let onDelivered: @Sendable (_ deliveries: Int, _ messages: Int) -> Void

    /// One router per loop of `group`; the set of loops is fixed for the life of the hub.
    /// `flushWindow`: see `HubConfiguration.fanoutFlushWindowMillis` (zero: flush at once).
    public init(
        group: any EventLoopGroup, flushWindow: TimeAmount = .zero, compressor: (any FrameCompressor)? = nil,
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
        self.compressor = compressor
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
        var events = FanoutEvent.coalesced(events)
        // One cache per event, shared by every loop: nothing is compressed until a deflate
        // connection is among its recipients.
        if let compressor {
            for index in events.indices { events[index].compressedFrames = CompressedFrames(compressor: compressor) }
        }
        post(.events(events), bytes: events.reduce(0) { $0 + $1.frame.readableBytes })
    }

    /// Runs `body` with each loop's router, on that loop, in order with the events posted
    /// before and after it (a removed member gets nothing published after the removal).
    public func forEachRouter(_ body: @escaping @Sendable (LoopRouter) -> Void) {
        post(.task(body), bytes: 0)
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

    /// Posts to every loop's mailbox; `bytes` (the item's frames) is counted once here, not
    /// once per loop.
    private func post(_ item: LoopMailbox.Item, bytes: Int) {
        let now = NIODeadline.now()
        let onDelivered = self.onDelivered
        for route in routers where route.mailbox.post(item, bytes: bytes, now: now) {
            let router = route.router
            let mailbox = route.mailbox
            // Always a new task, even on the current loop: delivery must never run inside
            // a handler callback, where a flush could re-enter the router.
            route.loop.execute {
                for item in mailbox.take() {
                    switch item {
                    case .events(let events):
                        let counts = router.value.deliver(events)
                        onDelivered(counts.deliveries, counts.messages)
                    case .task(let body):
                        body(router.value)
                    }
                }
            }
        }
    }
}
