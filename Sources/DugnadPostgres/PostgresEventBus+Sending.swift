import Dispatch
import DugnadCore
import Logging
import NIOConcurrencyHelpers

/// Sending to the other nodes: items queue behind a lock (bounded: `maxQueuedItems`) and
/// one serial queue (`outbound`) packs everything queued into as few notifications as
/// fit, sending oversized messages by reference and other oversized items by the spool.
extension PostgresEventBus {
    func enqueue(_ items: [BusItem]) {
        guard !items.isEmpty else { return }
        outgoing.withLockedValue { append(items, to: &$0) }
        startDrain()
    }

    func append(_ items: [BusItem], to state: inout Outgoing) {
        guard !state.closed else { return }
        let room = configuration.maxQueuedItems - state.items.count
        if room >= items.count {
            state.items.append(contentsOf: items)
        } else {
            state.items.append(contentsOf: items.prefix(max(0, room)))
            state.dropped += items.count - max(0, room)
        }
    }

    func startDrain() {
        let start = outgoing.withLockedValue { state -> Bool in
            guard !state.draining, !state.items.isEmpty else { return false }
            state.draining = true
            return true
        }
        if start { outbound.async { self.drain() } }
    }

    /// Sends everything queued, as few notifications as fit.
    private func drain() {
        while true {
            let (items, dropped, trim) = outgoing.withLockedValue { state -> ([BusItem], Int, Bool) in
                // Closed by `stop()` after its wait: what is left is dropped, because the
                // store (and the event loops its connections run on) goes away next.
                if state.closed { state.items.removeAll() }
                let items = state.items
                let dropped = state.dropped
                state.items.removeAll(keepingCapacity: true)
                state.dropped = 0
                if items.isEmpty { state.draining = false }
                let now = WallClock.nowMillis()
                let trim = now - state.lastTrim > 60_000
                if trim { state.lastTrim = now }
                return (items, dropped, trim)
            }
            if dropped > 0 {
                logger.warning("bus queue full: dropped items for other nodes", metadata: ["dropped": "\(dropped)"])
            }
            if items.isEmpty { return }
            send(items, trimSpool: trim)
        }
    }

    private var isClosed: Bool { outgoing.withLockedValue { $0.closed } }

    private func send(_ items: [BusItem], trimSpool: Bool) {
        let channel = self.channel
        let node = nodeID
        let limit = configuration.maxPayloadBytes
        let header = BusEnvelope.headerSize(node: node)
        do {
            try notifier.withConnection(retryOnLostConnection: true) { db in
                var batch: [BusItem] = []
                var size = header
                func flush() throws {
                    guard !batch.isEmpty else { return }
                    guard !isClosed else { throw StoreError(.unavailable, "the bus is stopping") }
                    let payload = String(decoding: BusEnvelope(node: node, items: batch).encoded(), as: UTF8.self)
                    try PostgresStore.notify(db, channel: channel, payload: payload)
                    batch.removeAll(keepingCapacity: true)
                    size = header
                }
                for original in items {
                    var item = original
                    var itemSize = BusEnvelope.size(of: item)
                    if header + itemSize > limit {
                        if case .message(let name, let seq, _) = item {
                            item = .messageReference(channel: name, seq: seq)
                        } else {
                            let payload = String(decoding: BusEnvelope(node: node, items: [item]).encoded(), as: UTF8.self)
                            let id = try PostgresStore.spool(db, payload: payload, at: WallClock.nowMillis())
                            item = .spooled(id: id)
                        }
                        itemSize = BusEnvelope.size(of: item)
                    }
                    if size + itemSize > limit { try flush() }
                    batch.append(item)
                    size += itemSize
                }
                try flush()
                if trimSpool { try PostgresStore.trimSpool(db, now: WallClock.nowMillis()) }
            }
        } catch where isClosed {
            logger.debug("bus stopped before it could notify the other nodes", metadata: ["items": "\(items.count)"])
        } catch {
            // The other nodes catch up on messages from storage when they notice the gap
            // or reconnect; the rest was best effort.
            logger.warning(
                "bus could not notify the other nodes",
                metadata: ["items": "\(items.count)", "error": "\(PostgresFailure.describe(error))"])
        }
    }
}
