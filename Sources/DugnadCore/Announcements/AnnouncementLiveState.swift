/// What the hub keeps in memory about announcements: which leaders watch which
/// announcement's figures, and whose figures changed since the last `announcement_stats`
/// events (coalesced to at most one per announcement per interval).
struct AnnouncementLiveState: Sendable {
    private(set) var watchers: [String: Set<String>] = [:]
    private var dirty: Set<String> = []
    /// Time of the last revocation check, so each check asks only for newer revocations.
    var revocationsCheckedAt: Int64 = 0

    mutating func watch(_ announcementID: String, by userID: String) {
        watchers[announcementID, default: []].insert(userID)
    }

    mutating func markDirty(_ announcementID: String) {
        dirty.insert(announcementID)
    }

    /// The announcements whose figures changed, with their watchers; clears the dirty set.
    mutating func takeDirty() -> [(id: String, watchers: Set<String>)] {
        defer { dirty.removeAll(keepingCapacity: true) }
        return dirty.sorted().map { ($0, watchers[$0] ?? []) }
    }
}
