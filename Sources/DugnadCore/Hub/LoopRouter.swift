import NIOCore

/// The subscriptions of one event loop. Confined to that loop: only touched from tasks
/// running on it, so it needs no lock. Fan-out therefore costs one hop per loop per
/// batch, not one per connection.
public final class LoopRouter {
    private var channels: [String: [ObjectIdentifier: any FrameSink]] = [:]
    private var users: [String: [ObjectIdentifier: any FrameSink]] = [:]
    private var touched: [any FrameSink] = []
    /// The list being flushed (kept to reuse its storage).
    private var flushing: [any FrameSink] = []
    private let loop: (any EventLoop)?
    private let flushWindow: TimeAmount
    private var lastFlush = NIODeadline.uptimeNanoseconds(0)
    private var flushScheduled = false
    /// Without a window: when the flush task now queued on the loop was queued (or last
    /// overtaken), and how long the last flush took.
    private var flushQueuedAt: NIODeadline?
    private var lastFlushCost = TimeAmount.zero
    private let clock: () -> NIODeadline

    /// The longest a delivery waits for the queued flush task while further deliveries
    /// keep running before it: four times as long as the last flush took, within bounds.
    /// Measured (docs/benchmarks.md): 4 gave the lowest p99 for fan-out to 1,000 and
    /// 10,000 below saturation, 1 a third more; without a bound an overloaded loop held
    /// its connections' output for seconds, behind its whole queue.
    public static func holdLimit(lastFlushCost: TimeAmount) -> TimeAmount {
        min(max(lastFlushCost * 4, .milliseconds(1)), .milliseconds(250))
    }

    /// `flushWindow` (with the router's `loop`): deliveries within it after a flush wait
    /// for one flush at its end. With a zero window, deliveries are flushed by a task
    /// queued behind them (`flushSoon`); without a loop, at once.
    ///
    /// `clock`: the time the router goes by, the loop's own by default (tests give their
    /// own, to have time pass while deliveries run ahead of a queued flush).
    public init(
        loop: (any EventLoop)? = nil, flushWindow: TimeAmount = .zero, clock: (() -> NIODeadline)? = nil
    ) {
        self.loop = loop
        self.flushWindow = flushWindow
        self.clock = clock ?? { loop?.now ?? .now() }
    }

    public func subscribe(_ sink: any FrameSink, to channel: String) {
        channels[channel, default: [:]][ObjectIdentifier(sink)] = sink
    }

    public func unsubscribe(_ sink: any FrameSink, from channel: String) {
        guard var sinks = channels[channel] else { return }
        sinks[ObjectIdentifier(sink)] = nil
        channels[channel] = sinks.isEmpty ? nil : sinks
    }

    public func register(_ sink: any FrameSink) {
        users[sink.userID, default: [:]][ObjectIdentifier(sink)] = sink
    }

    public func unregister(_ sink: any FrameSink) {
        guard var sinks = users[sink.userID] else { return }
        sinks[ObjectIdentifier(sink)] = nil
        users[sink.userID] = sinks.isEmpty ? nil : sinks
    }

    /// Connections of a user on this loop (for closing them, e.g. a revoked key).
    public func sinks(ofUser userID: String) -> [any FrameSink] {
        users[userID].map { Array($0.values) } ?? []
    }

    /// Writes every event to its recipients; each touched connection is then flushed
    /// once for this batch and any others that come before the flush (`flushSoon`): one
    /// syscall per connection per flush instead of one per message. An
    /// event may hold several frames (`FanoutEvent.coalesced`); each counts as a delivery.
    /// Returns the number of deliveries, and how many of them were chat messages.
    @discardableResult
    public func deliver(_ events: [FanoutEvent]) -> (deliveries: Int, messages: Int) {
        var deliveries = 0
        var messages = 0
        for event in events {
            switch event.target {
            case .channel(let name, let exceptUser):
                guard let sinks = channels[name] else { continue }
                let before = deliveries
                for sink in sinks.values {
                    if let exceptUser, sink.userID == exceptUser { continue }
                    write(event.frame, to: sink)
                    deliveries += event.count
                }
                if event.isMessage { messages += deliveries - before }
            case .users(let ids):
                for id in ids {
                    guard let sinks = users[id] else { continue }
                    for sink in sinks.values {
                        write(event.frame, to: sink)
                        deliveries += event.count
                    }
                }
            }
        }
        flushSoon()
        return (deliveries, messages)
    }

    /// Without a window: in a task of its own, queued behind the work the loop already
    /// has, so that the deliveries queued while the loop was busy (flushing, for one)
    /// share one flush, one syscall and one TCP segment per connection however many they
    /// are; on an idle loop that task runs next. While deliveries keep running before it,
    /// they flush at once when the oldest unflushed one has waited `holdLimit`, and the
    /// queued task flushes what comes after.
    ///
    /// With a window: now, unless the last flush was less than a window ago, then once at
    /// the window's end (one timer per loop, not per connection).
    private func flushSoon() {
        guard !touched.isEmpty, !flushScheduled else { return }
        guard let loop else { return flushTouched(at: lastFlush) }
        guard flushWindow > .zero else { return flushWhenDue(on: loop) }
        let now = clock()
        let due = lastFlush + flushWindow
        guard now < due else { return flushTouched(at: now) }
        flushScheduled = true
        loop.assumeIsolated().scheduleTask(deadline: due) { [self] in
            flushScheduled = false
            flushTouched(at: clock())
        }
    }

    private func flushWhenDue(on loop: any EventLoop) {
        let now = clock()
        guard let queuedAt = flushQueuedAt else {
            flushQueuedAt = now
            loop.assumeIsolated().execute { [self] in
                flushQueuedAt = nil
                flushTouched(at: clock())
            }
            return
        }
        if now - queuedAt >= Self.holdLimit(lastFlushCost: lastFlushCost) {
            // The queued task stays, for what is delivered before it runs.
            flushQueuedAt = now
            flushTouched(at: now)
        }
    }

    private func flushTouched(at now: NIODeadline) {
        guard !touched.isEmpty else { return }
        lastFlush = now
        // The list is swapped out first: should a flush lead to another delivery, that
        // one's connections go to the fresh list and are flushed in their turn.
        swap(&touched, &flushing)
        for sink in flushing {
            sink.needsFlush = false
            sink.flush()
        }
        flushing.removeAll(keepingCapacity: true)
        if loop != nil, flushWindow == .zero { lastFlushCost = clock() - now }
    }

    private func write(_ frame: ByteBuffer, to sink: any FrameSink) {
        sink.enqueue(frame)
        if !sink.needsFlush {
            sink.needsFlush = true
            touched.append(sink)
        }
    }
}
