import DugnadCore
import Logging
import NIOCore

/// What arrives from the other nodes, and the sequencing of every message event. All of
/// it runs on the `inbound` queue, which is also where storage is read.
extension PostgresEventBus {
    /// A notification (on the LISTEN connection's event loop): handled on `inbound`.
    func received(_ payload: String) {
        inbound.async { self.handle(payload) }
    }

    /// Listening again after a start or a lost connection: whatever was sent meanwhile
    /// was missed. Read every channel delivered here from where it stopped, give the
    /// other nodes a fresh grace period, and exchange presence snapshots.
    func listening() {
        inbound.async {
            var output = MessageSequencer.Output()
            let now = Self.now()
            self.incoming.withLockedValue { state in
                state.sequencer.catchUp(now: now, into: &output)
                for node in state.nodes.keys { state.nodes[node]?.lastHeard = now }
            }
            self.finish(output)
        }
        enqueue([.snapshotRequest(node: nil)])
        sendSnapshot()
    }

    /// Local message events after their commit, in seq order per channel.
    func sequence(_ messages: [(FanoutEvent.MessagePosition, FanoutEvent)]) {
        var output = MessageSequencer.Output()
        let now = Self.now()
        incoming.withLockedValue { state in
            for (position, event) in messages {
                state.sequencer.receive(position, event: event, now: now, into: &output)
            }
        }
        finish(output)
    }

    private func handle(_ payload: String) {
        guard let envelope = BusEnvelope.decode(Array(payload.utf8)) else {
            logger.debug("ignored an unreadable bus notification", metadata: ["bytes": "\(payload.utf8.count)"])
            return
        }
        guard envelope.node != nodeID else { return }
        var output = MessageSequencer.Output()
        let now = Self.now()
        incoming.withLockedValue { state in
            if state.nodes[envelope.node] == nil {
                state.nodes[envelope.node] = RemoteNode(counter: nil, lastHeard: now)
            } else {
                state.nodes[envelope.node]?.lastHeard = now
            }
        }
        for item in envelope.items {
            handle(item, from: envelope.node, now: now, into: &output)
        }
        finish(output)
    }

    private func handle(_ item: BusItem, from node: String, now: UInt64, into output: inout MessageSequencer.Output) {
        let hub = self.hub.withLockedValue { $0 }
        switch item {
        case .message(let channel, let seq, let json):
            let position = FanoutEvent.MessagePosition(channel: channel, seq: seq)
            let event = FanoutEvent(
                target: .channel(channel, exceptUser: nil), frame: OutboundFrame.make(json), isMessage: true, position: position)
            incoming.withLockedValue { $0.sequencer.receive(position, event: event, now: now, into: &output) }
        case .messageReference(let channel, let seq):
            let position = FanoutEvent.MessagePosition(channel: channel, seq: seq)
            incoming.withLockedValue { $0.sequencer.receive(position, event: nil, now: now, into: &output) }
        case .channelEvent(let channel, let exceptUser, let json):
            output.deliver.append(FanoutEvent(target: .channel(channel, exceptUser: exceptUser), frame: OutboundFrame.make(json)))
        case .usersEvent(let users, let json):
            output.deliver.append(FanoutEvent(target: .users(users), frame: OutboundFrame.make(json)))
        case .presence(let counter, let changes):
            let known = incoming.withLockedValue { state -> Int64? in
                let known = state.nodes[node]?.counter
                if known == nil || counter > known! { state.nodes[node]?.counter = counter }
                return known
            }
            if let known, counter <= known { return }
            hub?.applyPresence(changes, from: node)
            // A number skipped, or a node never heard before: its whole state is needed.
            if known == nil || counter != known! + 1 { enqueue([.snapshotRequest(node: node)]) }
        case .snapshot(let counter, let snapshot):
            incoming.withLockedValue { $0.nodes[node]?.counter = counter }
            hub?.replacePresence(with: snapshot, from: node)
        case .heartbeat(let counter):
            let known = incoming.withLockedValue { $0.nodes[node]?.counter }
            if known != counter { enqueue([.snapshotRequest(node: node)]) }
        case .snapshotRequest(let target):
            if target == nil || target == nodeID { sendSnapshot() }
        case .goodbye:
            incoming.withLockedValue { _ = $0.nodes.removeValue(forKey: node) }
            hub?.forgetNode(node)
        case .statsChanged(let ids):
            hub?.statsChangedElsewhere(ids)
        case .spooled(let id):
            do {
                guard !isStopping, let payload = try store.spooledPayload(id: id) else { return }
                guard let envelope = BusEnvelope.decode(Array(payload.utf8)), envelope.node == node else { return }
                for inner in envelope.items {
                    if case .spooled = inner { continue }
                    handle(inner, from: node, now: now, into: &output)
                }
            } catch {
                logger.warning("could not read a spooled bus item", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Runs the sequencer's reads (storage, on this queue) until none are left, then
    /// delivers everything in order and keeps the hub's cached last seqs current.
    func finish(_ first: MessageSequencer.Output) {
        var deliver = first.deliver
        var fetches = first.fetches
        while !fetches.isEmpty {
            let fetch = fetches.removeFirst()
            let result = read(fetch)
            var output = MessageSequencer.Output()
            let now = Self.now()
            incoming.withLockedValue {
                $0.sequencer.fetched(
                    fetch, messages: result?.messages, complete: result?.complete ?? false, now: now, into: &output)
            }
            deliver.append(contentsOf: output.deliver)
            fetches.append(contentsOf: output.fetches)
        }
        guard !deliver.isEmpty else { return }
        local.publish(deliver)
        var newest: [String: Int64] = [:]
        for event in deliver {
            if let position = event.position { newest[position.channel] = max(newest[position.channel] ?? 0, position.seq) }
        }
        if let hub = hub.withLockedValue({ $0 }) {
            for (channel, seq) in newest { hub.noteLastSeq(channel: channel, seq: seq) }
        }
    }

    /// Messages after `fetch.after` up to `fetch.through`, a page at a time (at most ten
    /// pages per call: `complete` false when more may follow); nil when storage failed or the
    /// bus is stopping.
    private func read(_ fetch: MessageSequencer.Fetch) -> (messages: [StoredMessage], complete: Bool)? {
        guard !isStopping else { return nil }
        var messages: [StoredMessage] = []
        var after = fetch.after
        do {
            for _ in 0..<10 {
                let wanted = min(Int64(1_000), fetch.through - after)
                guard wanted > 0 else { return (messages, true) }
                let page = try store.messages(channel: fetch.channel, page: .after(seq: after, limit: Int(wanted)))
                messages.append(contentsOf: page.messages)
                guard let last = page.messages.last, page.hasMore else { return (messages, true) }
                after = last.seq
            }
            return (messages, false)
        } catch {
            logger.warning(
                "could not read missed messages", metadata: ["channel": "\(fetch.channel)", "error": "\(error)"])
            return nil
        }
    }

    /// Forgets the presence of nodes silent for longer than the timeout (only while this
    /// node listens: a deaf node hears no one, and that says nothing about the others).
    func expireSilentNodes() {
        guard listener.isConnected else { return }
        let now = Self.now()
        let timeout = UInt64(max(0, configuration.nodeTimeoutMillis)) * 1_000_000
        let silent = incoming.withLockedValue { state -> [String] in
            let silent = state.nodes.filter { now &- $0.value.lastHeard > timeout }.map(\.key)
            for node in silent { state.nodes[node] = nil }
            return silent
        }
        guard !silent.isEmpty, let hub = hub.withLockedValue({ $0 }) else { return }
        for node in silent.sorted() {
            logger.warning("node silent: its users are offline here", metadata: ["node": "\(node)"])
            hub.forgetNode(node)
        }
    }
}
