/// `search` (contract §9): messages that hold the words of `text`, best first, from the
/// channels the caller may read now. The words themselves are found by the hub
/// (`SearchTerms`): this checks the fields as a frame or an HTTP query string carries them.
public struct SearchRequest: Sendable, Equatable {
    /// What the person typed: words, or the beginnings of words.
    public var text: String
    /// Only this channel's messages.
    public var channel: String?
    /// Only messages whose author (`from.id`) is this user id.
    public var fromID: String?
    /// Only messages older than this `ts` (milliseconds since the Unix epoch).
    public var before: Int64?
    public var limit: Int

    public init(text: String, channel: String? = nil, fromID: String? = nil, before: Int64? = nil, limit: Int = defaultLimit) {
        self.text = text
        self.channel = channel
        self.fromID = fromID
        self.before = before
        self.limit = limit
    }

    public static let defaultLimit = 20
    /// The contract's bound: one screen of results; a larger `limit` is clamped to it.
    public static let maxLimit = 50
    /// Long enough for any phrase a person types into a search box.
    public static let maxQueryCharacters = 200

    /// Checks the fields: `query` 1 to 200 characters without control characters,
    /// `channel` a channel name, `from` a user id (1 to 128 bytes, no U+0000), `before` at least 0,
    /// `limit` at least 1 (above 50: 50).
    public static func checked(query: String?, channel: String?, from: String?, before: Int64?, limit: Int64?)
        throws(ProtocolError) -> SearchRequest
    {
        guard let query else { throw .badRequest("missing field 'query'") }
        guard !query.isEmpty, query.count <= maxQueryCharacters else {
            throw .badRequest("'query' must be 1 to \(maxQueryCharacters) characters")
        }
        guard !query.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .badRequest("'query' must not contain control characters")
        }
        if let channel, !ChannelName.isValid(channel) {
            throw .badRequest("'channel' must match ^[a-z0-9][a-z0-9._-]{0,63}$")
        }
        if let from, from.isEmpty || from.utf8.count > Limits.maxIDBytes || from.utf8.contains(0) {
            throw .badRequest("'from' must be a user id of 1 to \(Limits.maxIDBytes) bytes, without U+0000")
        }
        if let before, before < 0 { throw .badRequest("'before' must be at least 0") }
        if let limit, limit < 1 { throw .badRequest("'limit' must be at least 1") }
        return SearchRequest(
            text: query, channel: channel, fromID: from, before: before,
            limit: limit.map { Int(min($0, Int64(maxLimit))) } ?? defaultLimit)
    }
}
