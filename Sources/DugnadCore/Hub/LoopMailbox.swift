import DequeModule
import NIOConcurrencyHelpers
import NIOCore

/// What waits for one event loop's router: fan-out events from every producer (the
/// writer's batches, the bus, presence and typing) and router tasks (ending a removed
/// member's subscriptions, closing a banned user's connections), in the order they came.
///
/// A drain is scheduled only when a post finds no drain under way, and it takes everything
/// queued by the time it runs. At low load each event therefore goes out at once; under
/// load, all that piled up while the loop was busy goes out together, each connection
/// written and flushed once per pass, instead of one round of syscalls per writer batch
/// (the p99 of 700 ms at 1,000 subscribers × 500 msg/s in issue 14 was batches queued as
/// separate tasks, each flushing every subscriber). No timers and no windows.
///
/// A drain that has done its share of work (`LocalFanout.defaultDeliveriesPerPass`) flushes,
/// puts the rest back in front and goes on in a new task (which NIO runs in the same round
/// of tasks, before the loop reads again); until the last of it is delivered, the backlog
/// counts it, so publishes are slowed by what really waits.
final class LoopMailbox: Sendable {
    enum Item: Sendable {
        case events([FanoutEvent])
        case task(@Sendable (LoopRouter) -> Void)
    }

    /// An item with when it was posted, the bytes of frames it holds and the deliveries
    /// it makes (`LoopAudience`: an estimate made when it was posted).
    struct Entry: Sendable {
        var item: Item
        var postedAt: NIODeadline
        var bytes: Int
        var deliveries: Int

        /// What is left of an `.events` entry once its first `offset` events, which made
        /// `delivered` deliveries, went out: posted when it was, with the rest's bytes and
        /// the estimate less what was delivered.
        func remainder(from offset: Int, delivered: Int) -> Entry {
            guard case .events(let events) = item else { return self }
            let rest = Array(events[offset...])
            return Entry(
                item: .events(rest), postedAt: postedAt, bytes: rest.reduce(0) { $0 + $1.frame.readableBytes },
                deliveries: max(0, deliveries - delivered))
        }
    }

    /// What is queued or being drained: bytes of frames, deliveries, and how long the
    /// oldest item has waited.
    struct Backlog: Equatable, Sendable {
        var bytes: Int
        var deliveries: Int
        var oldest: NIODeadline?
    }

    private struct State {
        var entries: Deque<Entry> = []
        var queuedBytes = 0
        var queuedDeliveries = 0
        /// What the drain under way has taken, until it takes again or puts the rest back.
        var drainingBytes = 0
        var drainingDeliveries = 0
        /// When the oldest item not yet delivered was posted (queued or being drained).
        var oldest: NIODeadline?
        var drainScheduled = false
    }

    private let state = NIOLockedValueBox(State())

    /// Appends `item`, which holds `bytes` of frames and makes `deliveries`; true when no
    /// drain is under way or scheduled, and the caller schedules one.
    func post(_ item: Item, bytes: Int, deliveries: Int, now: NIODeadline) -> Bool {
        state.withLockedValue { state in
            state.entries.append(Entry(item: item, postedAt: now, bytes: bytes, deliveries: deliveries))
            state.queuedBytes += bytes
            state.queuedDeliveries += deliveries
            if state.oldest == nil { state.oldest = now }
            guard !state.drainScheduled else { return false }
            state.drainScheduled = true
            return true
        }
    }

    /// Everything queued, in order, for the drain under way, leaving the mailbox empty.
    /// Consecutive event batches come joined as one, with runs for the same recipients
    /// coalesced across batches (`FanoutEvent.coalesced`). Empty when nothing is queued:
    /// then the drain is over, and the next post schedules the next one.
    func take() -> [Entry] {
        let entries = state.withLockedValue { state -> Deque<Entry> in
            let taken = state.entries
            state.entries.removeAll(keepingCapacity: true)
            state.drainingBytes = state.queuedBytes
            state.drainingDeliveries = state.queuedDeliveries
            state.queuedBytes = 0
            state.queuedDeliveries = 0
            state.oldest = taken.first?.postedAt
            if taken.isEmpty { state.drainScheduled = false }
            return taken
        }
        return Self.joined(entries)
    }

    /// Puts what a drain did not get to back in front of whatever came meanwhile, so that
    /// order is kept; the drain stays scheduled (the caller goes on in a new task). The
    /// first entry of `rest` may be partly delivered (`Entry.remainder`).
    func putBack(_ rest: [Entry]) {
        guard !rest.isEmpty else { return }
        state.withLockedValue { state in
            state.entries.prepend(contentsOf: rest)
            state.queuedBytes += rest.reduce(0) { $0 + $1.bytes }
            state.queuedDeliveries += rest.reduce(0) { $0 + $1.deliveries }
            state.drainingBytes = 0
            state.drainingDeliveries = 0
            state.oldest = rest[0].postedAt
        }
    }

    /// True while events or tasks wait for a drain (not those a drain holds now).
    var hasQueued: Bool { state.withLockedValue { !$0.entries.isEmpty } }

    var backlog: Backlog {
        state.withLockedValue {
            Backlog(
                bytes: $0.queuedBytes + $0.drainingBytes, deliveries: $0.queuedDeliveries + $0.drainingDeliveries,
                oldest: $0.oldest)
        }
    }

    /// Joins consecutive event batches into one entry (posted when the first was).
    private static func joined(_ entries: Deque<Entry>) -> [Entry] {
        var result: [Entry] = []
        var pending: [FanoutEvent] = []
        var pendingSince: NIODeadline?
        var pendingBytes = 0
        var pendingDeliveries = 0
        var batches = 0
        func flushPending() {
            guard let since = pendingSince else { return }
            // A single batch was coalesced when it was published; only batches that piled
            // up need joining again.
            let events = batches > 1 ? FanoutEvent.coalesced(pending) : pending
            result.append(Entry(item: .events(events), postedAt: since, bytes: pendingBytes, deliveries: pendingDeliveries))
            pending.removeAll()
            pendingSince = nil
            pendingBytes = 0
            pendingDeliveries = 0
            batches = 0
        }
        for entry in entries {
            switch entry.item {
            case .events(let events):
                pending.append(contentsOf: events)
                if pendingSince == nil { pendingSince = entry.postedAt }
                pendingBytes += entry.bytes
                pendingDeliveries += entry.deliveries
                batches += 1
            case .task:
                flushPending()
                result.append(entry)
            }
        }
        flushPending()
        return result
    }
}
