/// Who is online where, as a pure state machine: methods say what changed, and pending
/// diffs are coalesced per channel until `drainDiffs` (called at most every 100 ms).
/// A presence entry is a user, not a connection.
///
/// With several nodes, presence is the union of this node's connections and what the
/// other nodes said of theirs (`PresenceState+Nodes.swift`): a user is present in a
/// channel while any node holds a connection of theirs there. Diffs describe the union,
/// so a user who moves from one node to another is never seen leaving.
public struct PresenceState: Sendable {
    public struct Member: Sendable, Equatable, Hashable {
        public var id: String
        public var name: String
        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    public struct Diff: Sendable, Equatable {
        public var channel: String
        public var joins: [Member]
        public var leaves: [Member]
        /// Users online in the channel after the diff.
        public var count: Int
    }

    struct Entry: Sendable {
        var name: String
        var connections: Int
    }

    struct PendingDiff: Sendable {
        var joins: [String: String] = [:]
        var leaves: [String: String] = [:]
    }

    /// This node's connections: channel → user → entry.
    var channels: [String: [String: Entry]] = [:]
    /// This node's connections per user, joined to anything or not.
    var online: [String: Int] = [:]
    /// Connections this node ever opened (`connect`): how `PresencePacer` tells a rush.
    public private(set) var connectionsOpened = 0
    /// What other nodes reported, by node id.
    var remote: [String: RemoteNode] = [:]
    /// Union diffs for this node's subscribers, coalesced per channel.
    var pending: [String: PendingDiff] = [:]
    /// Changes of this node's own presence not yet told to the other nodes: channel (""
    /// for "connected at all") → user → (name, present). The last state wins. Kept only
    /// with `sharedWithOtherNodes`: one node alone has nobody to tell.
    var outgoing: [String: [String: (name: String, present: Bool)]] = [:]
    /// Whether this node's changes are recorded for `drainOutgoing`.
    public let sharedWithOtherNodes: Bool

    public init(sharedWithOtherNodes: Bool = false) {
        self.sharedWithOtherNodes = sharedWithOtherNodes
    }

    /// A connection of `user` entered `channel`. True when the user became present there
    /// on this node.
    @discardableResult
    public mutating func join(channel: String, user: Member) -> Bool {
        // Mutated in place, never copied out and back: a copy of a channel's entries on
        // every join made 10,000 joins to one channel cost 10,000² entry copies.
        if channels[channel]?[user.id] != nil {
            channels[channel]?[user.id]?.connections += 1
            return false
        }
        let wasPresent = isPresentRemotely(channel: channel, userID: user.id)
        channels[channel, default: [:]][user.id] = Entry(name: user.name, connections: 1)
        if sharedWithOtherNodes { outgoing[channel, default: [:]][user.id] = (user.name, true) }
        if !wasPresent { noteJoin(channel: channel, user: user) }
        return true
    }

    /// A connection of `user` left `channel`. True when it was the user's last one there
    /// on this node.
    @discardableResult
    public mutating func leave(channel: String, userID: String) -> Bool {
        guard let entry = channels[channel]?[userID] else { return false }
        if entry.connections > 1 {
            channels[channel]?[userID]?.connections -= 1
            return false
        }
        channels[channel]?[userID] = nil
        if channels[channel]?.isEmpty == true { channels[channel] = nil }
        if sharedWithOtherNodes { outgoing[channel, default: [:]][userID] = (entry.name, false) }
        if !isPresentRemotely(channel: channel, userID: userID) {
            noteLeave(channel: channel, user: Member(id: userID, name: entry.name))
        }
        return true
    }

    /// A connection of `userID` opened on this node.
    public mutating func connect(userID: String) {
        online[userID, default: 0] += 1
        connectionsOpened &+= 1
        if sharedWithOtherNodes, online[userID] == 1 { outgoing["", default: [:]][userID] = ("", true) }
    }

    public mutating func disconnect(userID: String) {
        guard let count = online[userID] else { return }
        online[userID] = count > 1 ? count - 1 : nil
        if sharedWithOtherNodes, count == 1 { outgoing["", default: [:]][userID] = ("", false) }
    }

    /// Connected to any node.
    public func isOnline(_ userID: String) -> Bool {
        online[userID] != nil || remote.values.contains { $0.online.contains(userID) }
    }

    /// Open connections of a user on this node (the per-user connection limit is per node).
    public func connections(of userID: String) -> Int { online[userID] ?? 0 }

    /// Users connected to any node.
    public var onlineUserCount: Int { remote.isEmpty ? online.count : onlineUserIDs.count }

    /// Every user with at least one connection on any node.
    public var onlineUserIDs: [String] {
        guard !remote.isEmpty else { return Array(online.keys) }
        var users = Set(online.keys)
        for node in remote.values { users.formUnion(node.online) }
        return Array(users)
    }

    /// Every user with at least one connection on this node.
    public var localOnlineUserIDs: [String] { Array(online.keys) }

    public func count(channel: String) -> Int {
        guard !remote.isEmpty else { return channels[channel]?.count ?? 0 }
        return presentUsers(channel: channel).count
    }

    /// Present users of a channel, on any node, ordered by id.
    public func members(channel: String) -> [Member] {
        presentUsers(channel: channel).map { Member(id: $0.key, name: $0.value) }.sorted { $0.id < $1.id }
    }

    /// Deliveries the pending diffs would make: the members of every channel that changed.
    public var pendingAudience: Int {
        pending.reduce(0) { sum, item in
            item.value.joins.isEmpty && item.value.leaves.isEmpty ? sum : sum + count(channel: item.key)
        }
    }

    /// Takes the coalesced diffs; channels whose changes cancelled out are left out.
    public mutating func drainDiffs() -> [Diff] {
        var diffs: [Diff] = []
        for (channel, diff) in pending where !diff.joins.isEmpty || !diff.leaves.isEmpty {
            diffs.append(
                Diff(
                    channel: channel,
                    joins: diff.joins.map { Member(id: $0.key, name: $0.value) }.sorted { $0.id < $1.id },
                    leaves: diff.leaves.map { Member(id: $0.key, name: $0.value) }.sorted { $0.id < $1.id },
                    count: count(channel: channel)))
        }
        pending.removeAll(keepingCapacity: true)
        return diffs.sorted { $0.channel < $1.channel }
    }

    private func presentUsers(channel: String) -> [String: String] {
        guard !remote.isEmpty else { return (channels[channel] ?? [:]).mapValues(\.name) }
        var users: [String: String] = [:]
        for node in remote.values {
            if let present = node.channels[channel] { users.merge(present) { first, _ in first } }
        }
        for (id, entry) in channels[channel] ?? [:] { users[id] = entry.name }
        return users
    }

    mutating func noteJoin(channel: String, user: Member) {
        // In place, for the reason `join` gives.
        // A leave and a join inside one window cancel out: others saw no change.
        if pending[channel, default: PendingDiff()].leaves.removeValue(forKey: user.id) == nil {
            pending[channel, default: PendingDiff()].joins[user.id] = user.name
        }
    }

    mutating func noteLeave(channel: String, user: Member) {
        if pending[channel, default: PendingDiff()].joins.removeValue(forKey: user.id) == nil {
            pending[channel, default: PendingDiff()].leaves[user.id] = user.name
        }
    }
}
