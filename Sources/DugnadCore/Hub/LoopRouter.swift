import NIOCore

/// The subscriptions of one event loop. Confined to that loop: only touched from tasks
/// running on it, so it needs no lock. Fan-out therefore costs one hop per loop per
/// batch, not one per connection.
public final class LoopRouter {
    private var channels: [String: [ObjectIdentifier: any FrameSink]] = [:]
    private var users: [String: [ObjectIdentifier: any FrameSink]] = [:]
    private var touched: [any FrameSink] = []

    public init() {}

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

    /// Writes every event to its recipients, then flushes each touched connection once:
    /// one syscall per connection per batch instead of one per message. An event may hold
    /// several frames (`FanoutEvent.coalesced`); each counts as a delivery.
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
        for sink in touched {
            sink.needsFlush = false
            sink.flush()
        }
        touched.removeAll(keepingCapacity: true)
        return (deliveries, messages)
    }

    private func write(_ frame: ByteBuffer, to sink: any FrameSink) {
        sink.enqueue(frame)
        if !sink.needsFlush {
            sink.needsFlush = true
            touched.append(sink)
        }
    }
}
