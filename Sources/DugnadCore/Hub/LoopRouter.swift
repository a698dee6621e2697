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
    /// Each channel's count of this loop's connections, for the mailbox's backlog.
    private let audience: LoopAudience

    /// `flushWindow` (with the router's `loop`): deliveries within it after a flush wait
    /// for one flush at its end. Without a loop, or with a zero window, every delivery is
    /// flushed at once.
    public convenience init(loop: (any EventLoop)? = nil, flushWindow: TimeAmount = .zero) {
        self.init(loop: loop, flushWindow: flushWindow, audience: LoopAudience())
    }

    init(loop: (any EventLoop)?, flushWindow: TimeAmount, audience: LoopAudience) {
        self.loop = loop
        self.flushWindow = flushWindow
        self.audience = audience
    }

    public func subscribe(_ sink: any FrameSink, to channel: String) {
        channels[channel, default: [:]][ObjectIdentifier(sink)] = sink
        audience.set(channel, count: channels[channel]?.count ?? 0)
    }

    public func unsubscribe(_ sink: any FrameSink, from channel: String) {
        // In place: copying a channel's sinks out and back made every leave copy them all
        // (11 % of the hub's core when 10,000 connections of one channel closed).
        channels[channel]?[ObjectIdentifier(sink)] = nil
        if channels[channel]?.isEmpty == true { channels[channel] = nil }
        audience.set(channel, count: channels[channel]?.count ?? 0)
    }

    public func register(_ sink: any FrameSink) {
        users[sink.userID, default: [:]][ObjectIdentifier(sink)] = sink
    }

    public func unregister(_ sink: any FrameSink) {
        users[sink.userID]?[ObjectIdentifier(sink)] = nil
        if users[sink.userID]?.isEmpty == true { users[sink.userID] = nil }
    }

    /// Connections of a user on this loop (for closing them, e.g. a revoked key).
    public func sinks(ofUser userID: String) -> [any FrameSink] {
        users[userID].map { Array($0.values) } ?? []
    }

    /// Writes every event to its recipients, without flushing: the touched connections wait
    /// for `flushPending()`, so that a drain's pass costs one syscall per connection instead
    /// of one per message. An event may hold several frames (`FanoutEvent.coalesced`); each
    /// counts as a delivery. Returns the number of deliveries, and how many of them were
    /// chat messages.
    @discardableResult
    public func deliver(_ events: some Collection<FanoutEvent>) -> (deliveries: Int, messages: Int) {
        var deliveries = 0
        var messages = 0
        for event in events {
            switch event.target {
            case .channel(let name, let exceptUser):
                guard let sinks = channels[name] else { continue }
                let before = deliveries
                var compressed = CompressedChoice()
                for sink in sinks.values {
                    if let exceptUser, sink.userID == exceptUser { continue }
                    write(compressed.frame(of: event, for: sink, on: loop), to: sink)
                    deliveries += event.count
                }
                if event.isMessage { messages += deliveries - before }
            case .users(let ids):
                var compressed = CompressedChoice()
                for id in ids {
                    guard let sinks = users[id] else { continue }
                    for sink in sinks.values {
                        write(compressed.frame(of: event, for: sink, on: loop), to: sink)
                        deliveries += event.count
                    }
                }
            }
        }
        return (deliveries, messages)
    }

    /// Flushes each connection `deliver` touched, once: now, unless the last flush was less
    /// than a window ago, then once at the window's end for everything delivered within it
    /// (one timer per loop, not per connection).
    public func flushPending() {
        guard !touched.isEmpty, !flushScheduled else { return }
        guard let loop, flushWindow > .zero else { return flushTouched(at: lastFlush) }
        let now = loop.now
        let due = lastFlush + flushWindow
        guard now < due else { return flushTouched(at: now) }
        flushScheduled = true
        loop.assumeIsolated().scheduleTask(deadline: due) { [self] in
            flushScheduled = false
            flushTouched(at: loop.now)
        }
    }

    private func flushTouched(at now: NIODeadline) {
        lastFlush = now
        // The list is swapped out first: should a flush lead to another delivery, that
        // one's connections go to the fresh list and are flushed in their turn.
        swap(&touched, &flushing)
        for sink in flushing {
            sink.needsFlush = false
            sink.flush()
        }
        flushing.removeAll(keepingCapacity: true)
    }

    private func write(_ frame: ByteBuffer, to sink: any FrameSink) {
        sink.enqueue(frame)
        if !sink.needsFlush {
            sink.needsFlush = true
            touched.append(sink)
        }
    }
}

@available(*, unavailable)
extension LoopRouter: Sendable {}

/// The frame one event's recipients on this loop get: the plain one, or its compressed
/// twin from the event's cache, remembered for the last window asked for so that a
/// thousand deflate connections take the cache's lock once, not a thousand times.
private struct CompressedChoice {
    private var bits = 0
    private var frame: ByteBuffer?

    mutating func frame(of event: FanoutEvent, for sink: any FrameSink, on loop: (any EventLoop)?) -> ByteBuffer {
        guard let wanted = sink.deflateWindowBits, let cache = event.compressedFrames, let loop else { return event.frame }
        if wanted == bits, let frame { return frame }
        let made = cache.frame(for: event.frame, windowBits: wanted, on: loop)
        bits = wanted
        frame = made
        return made
    }
}
