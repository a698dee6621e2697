import NIOConcurrencyHelpers

/// What a multi-node bus (`EventBus`) calls to bring other nodes' state into this hub:
/// their presence, the last seqs of their messages, and which announcement figures
/// changed there.
extension Hub {
    /// Presence changes another node reported.
    public func applyPresence(_ changes: [PresenceState.Change], from node: String) {
        presenceState.withLockedValue { $0.apply(changes, from: node) }
    }

    /// Everything another node holds, replacing what was known of it.
    public func replacePresence(with snapshot: PresenceState.Snapshot, from node: String) {
        presenceState.withLockedValue { $0.replace(with: snapshot, from: node) }
    }

    /// A node stopped or went silent: its users leave where no other node keeps them.
    public func forgetNode(_ node: String) {
        presenceState.withLockedValue { $0.forgetNode(node) }
    }

    /// The nodes whose presence this hub holds.
    public var remoteNodeIDs: [String] {
        presenceState.withLockedValue { $0.remoteNodeIDs }
    }

    /// A message another node stored was delivered here: keeps the channel's cached
    /// `last_seq` (join replies) current.
    public func noteLastSeq(channel: String, seq: Int64) {
        channelCache.withLockedValue { cache in
            if var record = cache[channel], record.lastSeq < seq {
                record.lastSeq = seq
                cache[channel] = record
            }
        }
    }

    /// This node's own presence, for the other nodes.
    public func localPresenceSnapshot() -> PresenceState.Snapshot {
        presenceState.withLockedValue { $0.localSnapshot() }
    }

    /// Another node recorded receipts or deliveries of these announcements: recompute
    /// their figures for this node's watchers (without telling the others again).
    public func statsChangedElsewhere(_ announcementIDs: [String]) {
        announcementLive.withLockedValue { state in
            for id in announcementIDs { state.markDirty(id, forward: false) }
        }
    }
}
