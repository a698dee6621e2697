/// Who is online where, as a pure state machine: methods say what changed, and pending
/// diffs are coalesced per channel until `drainDiffs` (called at most every 100 ms).
/// A presence entry is a user, not a connection.
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

    private struct Entry: Sendable {
        var name: String
        var connections: Int
    }

    private struct PendingDiff: Sendable {
        var joins: [String: String] = [:]
        var leaves: [String: String] = [:]
    }

    private var channels: [String: [String: Entry]] = [:]
    private var online: [String: Int] = [:]
    private var pending: [String: PendingDiff] = [:]

    public init() {}

    /// A connection of `user` entered `channel`. True when the user became present there.
    @discardableResult
    public mutating func join(channel: String, user: Member) -> Bool {
        var entries = channels[channel, default: [:]]
        if var entry = entries[user.id] {
            entry.connections += 1
            entries[user.id] = entry
            channels[channel] = entries
            return false
        }
        entries[user.id] = Entry(name: user.name, connections: 1)
        channels[channel] = entries
        var diff = pending[channel, default: PendingDiff()]
        // A leave and a join inside one window cancel out: others saw no change.
        if diff.leaves.removeValue(forKey: user.id) == nil { diff.joins[user.id] = user.name }
        pending[channel] = diff
        return true
    }

    /// A connection of `user` left `channel`. True when it was the user's last one there.
    @discardableResult
    public mutating func leave(channel: String, userID: String) -> Bool {
        guard var entries = channels[channel], var entry = entries[userID] else { return false }
        entry.connections -= 1
        if entry.connections > 0 {
            entries[userID] = entry
            channels[channel] = entries
            return false
        }
        entries[userID] = nil
        channels[channel] = entries.isEmpty ? nil : entries
        var diff = pending[channel, default: PendingDiff()]
        if diff.joins.removeValue(forKey: userID) == nil { diff.leaves[userID] = entry.name }
        pending[channel] = diff
        return true
    }

    /// A connection of `userID` opened anywhere on the hub.
    public mutating func connect(userID: String) {
        online[userID, default: 0] += 1
    }

    public mutating func disconnect(userID: String) {
        guard let count = online[userID] else { return }
        online[userID] = count > 1 ? count - 1 : nil
    }

    public func isOnline(_ userID: String) -> Bool { online[userID] != nil }

    /// Open connections of a user anywhere on this hub.
    public func connections(of userID: String) -> Int { online[userID] ?? 0 }

    public var onlineUserCount: Int { online.count }

    /// Every user with at least one connection.
    public var onlineUserIDs: [String] { Array(online.keys) }

    public func count(channel: String) -> Int { channels[channel]?.count ?? 0 }

    /// Present users of a channel, ordered by id.
    public func members(channel: String) -> [Member] {
        (channels[channel] ?? [:]).map { Member(id: $0.key, name: $0.value.name) }.sorted { $0.id < $1.id }
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
}
