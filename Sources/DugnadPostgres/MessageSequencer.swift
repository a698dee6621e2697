import DugnadCore

/// Delivers each channel's messages to this node's subscribers in seq order, each once,
/// whichever node stored them and in whatever order their notifications arrive.
///
/// A pure state machine: `receive`, `subscribed`, `tick`, `fetched` and `catchUp` say
/// what to deliver now and which seqs to read from storage (`Fetch`); the bus runs the
/// reads and feeds the result back. Seqs are gapless and a notification is sent only
/// after its commit, so every seq below one that arrived is already in storage: a gap
/// that does not close within `graceNanos` (the other node's notification is late or
/// lost) is filled from there.
struct MessageSequencer {
    /// Read `channel` from storage after `after`, up to `through` (`Int64.max`: all there is).
    struct Fetch: Sendable, Equatable {
        var channel: String
        var after: Int64
        var through: Int64
    }

    struct Output {
        var deliver: [FanoutEvent] = []
        var fetches: [Fetch] = []
    }

    private struct Channel {
        /// The last seq delivered here; nil until the channel's starting point is known.
        var delivered: Int64?
        /// Seqs that arrived ahead of a gap; a nil event is known to exist but must be read
        /// (it was too large to travel inline).
        var pending: [Int64: FanoutEvent?] = [:]
        /// Since when the channel waits (for a gap to close, or for its first seq).
        var waitingSince: UInt64?
        var fetching = false
        /// After a failed read: no new read before this time.
        var retryAt: UInt64?
        /// Everything after `delivered` must be read (notifications were missed).
        var catchingUp = false
    }

    let graceNanos: UInt64
    /// Most seqs held per channel behind a gap; beyond it the gap is read at once.
    let maxPending: Int
    private var channels: [String: Channel] = [:]

    init(graceNanos: UInt64, maxPending: Int = 10_000) {
        self.graceNanos = graceNanos
        self.maxPending = maxPending
    }

    /// The last seq delivered per channel (for tests and catch-up).
    func delivered(_ channel: String) -> Int64? { channels[channel]?.delivered }

    /// A message event (with its position) or a reference to one (`event` nil).
    mutating func receive(
        _ position: FanoutEvent.MessagePosition, event: FanoutEvent?, now: UInt64, into output: inout Output
    ) {
        var state = channels[position.channel] ?? Channel()
        if let delivered = state.delivered, position.seq <= delivered { return }
        // A seq already held with its frame keeps it; a reference adds nothing to it.
        let held = state.pending[position.seq] ?? nil
        if held == nil { state.pending[position.seq] = .some(event) }
        channels[position.channel] = state
        settle(position.channel, now: now, into: &output)
    }

    /// A local connection subscribed after reading `lastSeq`: a channel seen for the first
    /// time starts there (messages after it reach the new subscriber live).
    mutating func subscribed(channel: String, lastSeq: Int64, now: UInt64, into output: inout Output) {
        var state = channels[channel] ?? Channel()
        guard state.delivered == nil else { return }
        let lowest = state.pending.keys.min() ?? Int64.max
        let start = min(lastSeq, lowest - 1)
        state.delivered = start
        state.pending = state.pending.filter { $0.key > start }
        channels[channel] = state
        settle(channel, now: now, into: &output)
    }

    /// Channels whose grace ran out: fetch their gaps, start them, or retry failed reads.
    mutating func tick(now: UInt64, into output: inout Output) {
        for (channel, state) in channels where (!state.pending.isEmpty || state.catchingUp) && !state.fetching {
            settle(channel, now: now, into: &output)
        }
    }

    /// After the bus lost notifications (its connection dropped): read every channel
    /// delivered here from where it stopped.
    mutating func catchUp(now: UInt64, into output: inout Output) {
        for channel in channels.keys.sorted() where channels[channel]?.delivered != nil {
            channels[channel]?.catchingUp = true
            channels[channel]?.retryAt = nil
            settle(channel, now: now, into: &output)
        }
    }

    /// Messages read for `fetch` (ascending seq; `complete` when nothing was left out),
    /// or nil when the read failed (it is tried again after the grace, by `tick`).
    mutating func fetched(
        _ fetch: Fetch, messages: [StoredMessage]?, complete: Bool, now: UInt64, into output: inout Output
    ) {
        guard var state = channels[fetch.channel] else { return }
        state.fetching = false
        guard let messages else {
            state.retryAt = now &+ graceNanos
            channels[fetch.channel] = state
            return
        }
        state.retryAt = nil
        if var delivered = state.delivered {
            for message in messages where message.seq > delivered {
                guard message.seq == delivered + 1 else { break }
                let held = state.pending.removeValue(forKey: message.seq) ?? nil
                output.deliver.append(held ?? .message(message))
                delivered = message.seq
            }
            if complete && fetch.through != Int64.max && delivered < fetch.through {
                // Storage has nothing more up to `through`: what is missing does not exist
                // (a history reset). Skip it rather than wait for it for ever.
                state.pending = state.pending.filter { $0.key > fetch.through || $0.value != nil }
                delivered = min(fetch.through, (state.pending.keys.min() ?? Int64.max) - 1)
            }
            state.delivered = delivered
        }
        if fetch.through == Int64.max && complete { state.catchingUp = false }
        state.waitingSince = state.pending.isEmpty ? nil : now
        channels[fetch.channel] = state
        settle(fetch.channel, now: now, into: &output)
    }

    private mutating func settle(_ channel: String, now: UInt64, into output: inout Output) {
        guard var state = channels[channel] else { return }
        defer { channels[channel] = state }
        if let retryAt = state.retryAt, now < retryAt { return }
        if state.delivered == nil {
            guard let lowest = state.pending.keys.min() else { return }
            // The first seq seen may not be the first sent: wait a moment for lower ones
            // from other nodes before starting the channel there.
            let waited = state.waitingSince.map { now &- $0 >= graceNanos } ?? false
            guard lowest == 1 || waited else {
                if state.waitingSince == nil { state.waitingSince = now }
                return
            }
            state.delivered = lowest - 1
            state.waitingSince = nil
        }
        guard var delivered = state.delivered else { return }
        while let held = state.pending[delivered + 1], let event = held {
            output.deliver.append(event)
            state.pending[delivered + 1] = nil
            delivered += 1
        }
        state.delivered = delivered
        guard !state.fetching else { return }
        if state.catchingUp {
            state.fetching = true
            output.fetches.append(Fetch(channel: channel, after: delivered, through: Int64.max))
            return
        }
        guard !state.pending.isEmpty else {
            state.waitingSince = nil
            return
        }
        let since = state.waitingSince ?? now
        state.waitingSince = since
        let nextIsReference = state.pending[delivered + 1] != nil
        if nextIsReference || now &- since >= graceNanos || state.pending.count > maxPending {
            state.fetching = true
            output.fetches.append(
                Fetch(channel: channel, after: delivered, through: state.pending.keys.max() ?? delivered + 1))
        }
    }
}
