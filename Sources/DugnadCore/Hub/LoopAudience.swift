import NIOConcurrencyHelpers

/// How many connections of one event loop each channel has, readable from any thread: what
/// a post to the loop's mailbox will cost in deliveries, known before the loop runs it (the
/// writer posts from its own thread; the router's tables belong to the loop).
///
/// The router sets a channel's count after every change of it, so the figure never drifts
/// from the table it mirrors.
final class LoopAudience: Sendable {
    private let counts = NIOLockedValueBox<[String: Int]>([:])

    func set(_ channel: String, count: Int) {
        counts.withLockedValue { $0[channel] = count > 0 ? count : nil }
    }

    /// Connections of this loop subscribed to `channel`.
    func count(of channel: String) -> Int {
        counts.withLockedValue { $0[channel] ?? 0 }
    }

    /// Deliveries `events` make on this loop: each event's frames times its channel's
    /// connections here, or times the users it names (an estimate: a user may have several
    /// connections, or none on this loop).
    func deliveries(of events: [FanoutEvent]) -> Int {
        counts.withLockedValue { counts in
            events.reduce(0) { total, event in
                switch event.target {
                case .channel(let name, _): total + event.count * (counts[name] ?? 0)
                case .users(let ids): total + event.count * ids.count
                }
            }
        }
    }
}
