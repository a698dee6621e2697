import NIOConcurrencyHelpers
import NIOCore

/// Delivers events to this process's connections through each event loop's mailbox
/// (`LoopMailbox`) and `LoopRouter`: at most one drain task per loop at a time, however
/// many producers post.
public final class LocalFanout: EventBus {
    private struct Route {
        let loop: any EventLoop
        let router: NIOLoopBoundBox<LoopRouter>
        let mailbox: LoopMailbox
        let audience: LoopAudience
    }

    private let routers: [Route]
    /// Deliveries of publishes accepted and not yet written: they reach a mailbox only
    /// once durable, and a loop that read a burst of publishes would otherwise accept all
    /// of it before the first reached its mailbox (`expectPublish`).
    private let expected = NIOLockedValueBox(0)
    /// Compresses for connections with permessage-deflate; nil: the hub compresses nothing.
    private let compressor: (any FrameCompressor)?
    private let deliveriesPerPass: Int
    private let onDelivered: @Sendable (_ deliveries: Int, _ messages: Int) -> Void

    /// One router per loop of `group`; the set of loops is fixed for the life of the hub.
    /// `flushWindow`: see `HubConfiguration.fanoutFlushWindowMillis` (zero: flush at once).
    public init(
        group: any EventLoopGroup, flushWindow: TimeAmount = .zero, compressor: (any FrameCompressor)? = nil,
        deliveriesPerPass: Int = LocalFanout.defaultDeliveriesPerPass,
        onDelivered: @escaping @Sendable (_ deliveries: Int, _ messages: Int) -> Void = { _, _ in }
    ) {
        var routers: [Route] = []
        for loop in group.makeIterator() {
            let audience = LoopAudience()
            let router = LoopRouter(loop: loop, flushWindow: flushWindow, audience: audience)
            routers.append(
                Route(
                    loop: loop, router: NIOLoopBoundBox.makeBoxSendingValue(router, eventLoop: loop),
                    mailbox: LoopMailbox(), audience: audience))
        }
        self.routers = routers
        self.compressor = compressor
        self.deliveriesPerPass = max(1, deliveriesPerPass)
        self.onDelivered = onDelivered
    }

    /// The router of `loop`; call only on that loop.
    public func router(for loop: any EventLoop) -> LoopRouter {
        guard let route = route(of: loop) else { preconditionFailure("event loop not part of the hub's group") }
        return route.router.value
    }

    /// True when `loop`'s mailbox holds work a drain has yet to take: a task `loop` is
    /// given now runs after that drain's pass. Any thread.
    public func hasQueuedWork(on loop: any EventLoop) -> Bool {
        route(of: loop)?.mailbox.hasQueued ?? false
    }

    private func route(of loop: any EventLoop) -> Route? {
        routers.first { $0.loop === loop }
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
        /// Deliveries its mailbox holds (events × the connections that get them).
        public var deliveries: Int

        public init(bytes: Int, waitedMillis: Int64, deliveries: Int = 0) {
            self.bytes = bytes
            self.waitedMillis = waitedMillis
            self.deliveries = deliveries
        }
    }

    /// Counts an accepted publish to `channel` in the backlog until `settle` is called with
    /// the returned figure (when its write completes, whatever the outcome): the deliveries
    /// it will make on the loop where its channel has the most connections.
    public func expectPublish(to channel: String) -> Int {
        let deliveries = routers.reduce(0) { max($0, $1.audience.count(of: channel)) }
        if deliveries > 0 { expected.withLockedValue { $0 += deliveries } }
        return deliveries
    }

    public func settle(_ deliveries: Int) {
        if deliveries > 0 { expected.withLockedValue { $0 -= deliveries } }
    }

    /// The largest backlog among the loops, with the deliveries of accepted publishes the
    /// writer still holds. A loop that keeps up drains its mailbox before
    /// anything waits long; one that cannot shows it here before its connections lag by
    /// seconds.
    public func backlog(now: NIODeadline = .now()) -> Backlog {
        var result = Backlog(bytes: 0, waitedMillis: 0)
        let expected = self.expected.withLockedValue { $0 }
        for route in routers {
            let backlog = route.mailbox.backlog
            result.bytes = max(result.bytes, backlog.bytes)
            result.deliveries = max(result.deliveries, backlog.deliveries + expected)
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
        let perPass = deliveriesPerPass
        for route in routers {
            var deliveries = 0
            if case .events(let events) = item { deliveries = route.audience.deliveries(of: events) }
            guard route.mailbox.post(item, bytes: bytes, deliveries: deliveries, now: now) else { continue }
            let router = route.router
            let mailbox = route.mailbox
            let loop = route.loop
            // Always a new task, even on the current loop: delivery must never run inside
            // a handler callback, where a flush could re-enter the router.
            loop.execute { Self.drain(mailbox, into: router, on: loop, perPass: perPass, onDelivered) }
        }
    }

    /// Deliveries one pass of a drain makes before it flushes every connection it wrote to
    /// and goes on in a new task: the guard against a backlog the back-pressure does not
    /// see (presence, the bus) sitting unflushed. NIO runs that task in the same round of
    /// tasks (a loop runs tasks until none is ready), so the loop does not read in between:
    /// what bounds the drain is the back-pressure, which bounds what the mailbox can hold.
    ///
    /// What keeps passes short is the back-pressure on deliveries waiting (`expectPublish`,
    /// `HubConfiguration.fanoutMaxBacklogDeliveries`). Before it, in the groups overload
    /// (10,000 subscribers in 100 channels, 10,000 msg/s offered), passes of 1.3 million
    /// deliveries held the loop for 1.6 to 2.2 s, and the publishes read after each were
    /// all accepted because the mailbox had just emptied (p99 lag 8.5 s). A low bound
    /// costs throughput instead: every pass flushes every connection it touched, and at
    /// 65,536 a pass gave each of the 10,000 subscribers about six messages per write; the
    /// same overload then delivered 218,000/s, against 413,000/s with this bound.
    public static let defaultDeliveriesPerPass = 1_048_576

    /// Delivers what the mailbox holds, `perPass` deliveries at a time; each pass ends with
    /// one flush per touched connection and one report of what it delivered. Ends when the
    /// mailbox is empty.
    private static func drain(
        _ mailbox: LoopMailbox, into box: NIOLoopBoundBox<LoopRouter>, on loop: any EventLoop, perPass: Int,
        _ onDelivered: @escaping @Sendable (_ deliveries: Int, _ messages: Int) -> Void
    ) {
        let router = box.value
        // Work done in this pass: deliveries, and at least one per event (an event that
        // reaches nobody still costs a look-up).
        var spent = 0
        var counted = (deliveries: 0, messages: 0)
        func endPass() {
            router.flushPending()
            if counted.deliveries > 0 { onDelivered(counted.deliveries, counted.messages) }
        }
        // Delivers `events` one at a time while the pass has budget; nil when all went out,
        // else where it stopped and how many deliveries the events before that made.
        func deliverWithinBudget(_ events: [FanoutEvent]) -> (offset: Int, delivered: Int)? {
            var delivered = 0
            for (offset, event) in events.enumerated() {
                if spent >= perPass { return (offset, delivered) }
                let counts = router.deliver(CollectionOfOne(event))
                spent += max(1, counts.deliveries)
                delivered += counts.deliveries
                counted.deliveries += counts.deliveries
                counted.messages += counts.messages
            }
            return nil
        }
        var entries = mailbox.take()
        while !entries.isEmpty {
            for index in entries.indices {
                switch entries[index].item {
                case .task(let body):
                    body(router)
                case .events(let events):
                    guard let stop = deliverWithinBudget(events) else { continue }
                    let rest = entries[index].remainder(from: stop.offset, delivered: stop.delivered)
                    mailbox.putBack([rest] + entries[(index + 1)...])
                    endPass()
                    loop.execute { drain(mailbox, into: box, on: loop, perPass: perPass, onDelivered) }
                    return
                }
            }
            entries = mailbox.take()
        }
        endPass()
    }
}
