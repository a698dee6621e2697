/// Presence held by other nodes of a cluster. Each node tells the others how its own
/// presence changed (`drainOutgoing`) and, now and then, all of it (`localSnapshot`);
/// receivers fold that into their view (`apply`, `replace`) and drop a node that went
/// silent (`forgetNode`). Changes to the union become diffs for local subscribers, as
/// local joins and leaves do.
extension PresenceState {
    /// One user's presence on one node changed. `channel` "" means connected at all (a
    /// channel name is never empty).
    public struct Change: Sendable, Equatable {
        public var channel: String
        public var user: Member
        public var present: Bool

        public init(channel: String, user: Member, present: Bool) {
            self.channel = channel
            self.user = user
            self.present = present
        }
    }

    /// All of one node's presence: who is in which channel, and who is connected.
    public struct Snapshot: Sendable, Equatable {
        /// Channel → present users.
        public var channels: [String: [Member]]
        /// Users with at least one connection, sorted.
        public var online: [String]

        public init(channels: [String: [Member]] = [:], online: [String] = []) {
            self.channels = channels
            self.online = online
        }
    }

    struct RemoteNode: Sendable {
        /// Channel → user → name.
        var channels: [String: [String: String]] = [:]
        var online: Set<String> = []
    }

    /// Ids of the other nodes this state holds presence of.
    public var remoteNodeIDs: [String] { remote.keys.sorted() }

    /// This node's own presence, for the other nodes.
    public func localSnapshot() -> Snapshot {
        var snapshot = Snapshot(online: online.keys.sorted())
        for (channel, entries) in channels {
            snapshot.channels[channel] = entries.map { Member(id: $0.key, name: $0.value.name) }.sorted { $0.id < $1.id }
        }
        return snapshot
    }

    /// Takes the changes of this node's presence since the last call, for the other nodes
    /// (ordered by channel and user; a join and a leave in one window leave the last state).
    public mutating func drainOutgoing() -> [Change] {
        var changes: [Change] = []
        for (channel, users) in outgoing.sorted(by: { $0.key < $1.key }) {
            for (id, state) in users.sorted(by: { $0.key < $1.key }) {
                changes.append(Change(channel: channel, user: Member(id: id, name: state.name), present: state.present))
            }
        }
        outgoing.removeAll(keepingCapacity: true)
        return changes
    }

    /// Folds in changes that `node` reported. Applying one twice changes nothing.
    public mutating func apply(_ changes: [Change], from node: String) {
        var state = remote[node] ?? RemoteNode()
        for change in changes {
            if change.channel.isEmpty {
                if change.present { state.online.insert(change.user.id) } else { state.online.remove(change.user.id) }
                continue
            }
            let had = state.channels[change.channel]?[change.user.id] != nil
            guard had != change.present else { continue }
            let elsewhere = isPresent(channel: change.channel, userID: change.user.id, except: node)
            if change.present {
                state.channels[change.channel, default: [:]][change.user.id] = change.user.name
                if !elsewhere { noteJoin(channel: change.channel, user: change.user) }
            } else {
                let name = state.channels[change.channel]?.removeValue(forKey: change.user.id) ?? change.user.name
                if state.channels[change.channel]?.isEmpty == true { state.channels[change.channel] = nil }
                if !elsewhere { noteLeave(channel: change.channel, user: Member(id: change.user.id, name: name)) }
            }
        }
        remote[node] = state
    }

    /// Replaces everything known of `node` with its snapshot: what it no longer reports
    /// leaves, what is new joins.
    public mutating func replace(with snapshot: Snapshot, from node: String) {
        let old = remote[node] ?? RemoteNode()
        var new = RemoteNode(online: Set(snapshot.online))
        for (channel, members) in snapshot.channels where !members.isEmpty {
            var users: [String: String] = [:]
            for member in members { users[member.id] = member.name }
            new.channels[channel] = users
        }
        remote[node] = new
        for (channel, users) in old.channels {
            for (id, name) in users where new.channels[channel]?[id] == nil {
                if !isPresent(channel: channel, userID: id, except: nil) {
                    noteLeave(channel: channel, user: Member(id: id, name: name))
                }
            }
        }
        for (channel, users) in new.channels {
            for (id, name) in users where old.channels[channel]?[id] == nil {
                if !isPresent(channel: channel, userID: id, except: node) {
                    noteJoin(channel: channel, user: Member(id: id, name: name))
                }
            }
        }
    }

    /// Drops a node (stopped, or silent for too long): its users leave where no other
    /// node keeps them.
    public mutating func forgetNode(_ node: String) {
        guard remote[node] != nil else { return }
        replace(with: Snapshot(), from: node)
        remote[node] = nil
    }

    /// Present on some other node.
    func isPresentRemotely(channel: String, userID: String) -> Bool {
        remote.values.contains { $0.channels[channel]?[userID] != nil }
    }

    /// Present on this node or on another node than `except`.
    private func isPresent(channel: String, userID: String, except: String?) -> Bool {
        if channels[channel]?[userID] != nil { return true }
        return remote.contains { $0.key != except && $0.value.channels[channel]?[userID] != nil }
    }
}
