/// What the hub keeps in memory about announcements: which leaders watch which
/// announcement's figures, and whose figures changed since the last `announcement_stats`
/// events (coalesced to at most one per announcement per interval).
struct AnnouncementLiveState: Sendable {
    private(set) var watchers: [String: Set<String>] = [:]
    private var dirty: Set<String> = []
    private var forwarded: Set<String> = []
    /// Time of the last revocation check, so each check asks only for newer revocations.
    var revocationsCheckedAt: Int64 = 0

    mutating func watch(_ announcementID: String, by userID: String) {
        watchers[announcementID, default: []].insert(userID)
    }

    /// Changes made on this node (`forward`) are also told to the other nodes; changes
    /// another node told us of are not told again.
    mutating func markDirty(_ announcementID: String, forward: Bool = true) {
        dirty.insert(announcementID)
        if forward { forwarded.insert(announcementID) }
    }

    /// The announcements whose figures changed, with their watchers, and those of them
    /// changed here; clears both sets.
    mutating func takeDirty() -> (dirty: [(id: String, watchers: Set<String>)], forward: [String]) {
        defer {
            dirty.removeAll(keepingCapacity: true)
            forwarded.removeAll(keepingCapacity: true)
        }
        return (dirty.sorted().map { ($0, watchers[$0] ?? []) }, forwarded.sorted())
    }
}
