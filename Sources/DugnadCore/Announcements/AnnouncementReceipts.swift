/// Whom `GET /api/v1/announcements/{id}/receipts` lists: those of the audience who have
/// not yet read the announcement, or not yet acknowledged it.
public enum ReceiptState: String, Sendable, CaseIterable {
    case unread
    case unacked
}

/// One person of an announcement's audience, as the reach view names them.
public struct AnnouncementRecipient: Sendable, Equatable {
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}
