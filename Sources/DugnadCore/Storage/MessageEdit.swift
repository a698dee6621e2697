/// A new body for a stored message (`WriteOp.editMessage`). Who may edit, and until when,
/// is the hub's to check before it asks (the author and `ts` of a message never change);
/// the store refuses only a message that is missing or deleted meanwhile.
public struct MessageEdit: Sendable, Equatable {
    public var messageID: String
    public var body: String
    /// Milliseconds since the Unix epoch: the message's `edited_at`.
    public var at: Int64
    /// As in `NewMessage`: the ids the new body mentions (without the author).
    public var mentionCandidates: [String]
    public var mentionsChannel: Bool

    public init(messageID: String, body: String, at: Int64, mentionCandidates: [String] = [], mentionsChannel: Bool = false) {
        self.messageID = messageID
        self.body = body
        self.at = at
        self.mentionCandidates = mentionCandidates
        self.mentionsChannel = mentionsChannel
    }
}

extension StoredMessage {
    /// The message as a deletion leaves it in every engine: no body, meta, edit or
    /// mentions; its place (channel, seq, id), author and time stay.
    public var asDeleted: StoredMessage {
        var message = self
        message.body = ""
        message.metaJSON = nil
        message.editedAt = nil
        message.deleted = true
        message.mentions = []
        message.mentionsChannel = false
        return message
    }
}
