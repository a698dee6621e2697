/// A page of the channel directory: the `channels` command, and `GET /api/v1/channels`.
public struct DirectoryQuery: Sendable, Equatable {
    /// Found case-insensitively anywhere in a channel's name or title; nil lists every
    /// channel the caller may see.
    public var text: String?
    /// A channel name: the page holds the channels after it, by name.
    public var after: String?
    public var limit: Int

    public init(text: String? = nil, after: String? = nil, limit: Int = DirectoryQuery.defaultLimit) {
        self.text = text
        self.after = after
        self.limit = limit
    }

    public static let defaultLimit = 50
    /// The command's bound: 200 entries with 1,000-character descriptions are still one
    /// reply (`ReplyBound` pages what does not fit).
    public static let maxLimit = 200
    /// Long enough for any channel's name or title fragment a person types.
    public static let maxQueryCharacters = 100

    /// Checks the fields as a frame or an HTTP query string carries them. An empty `query`
    /// lists everything (a search box that was cleared); `after` is a channel name.
    public static func checked(query: String?, after: String?, limit: Int64?, maxLimit: Int = maxLimit)
        throws(ProtocolError) -> DirectoryQuery
    {
        if let query {
            guard query.count <= maxQueryCharacters else {
                throw .badRequest("'query' must be at most \(maxQueryCharacters) characters")
            }
            guard !query.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw .badRequest("'query' must not contain control characters")
            }
        }
        if let after, !ChannelName.isValid(after) {
            throw .badRequest("'after' must be a channel name (^[a-z0-9][a-z0-9._-]{0,63}$)")
        }
        if let limit, !(1...Int64(maxLimit)).contains(limit) {
            throw .badRequest("'limit' must be 1 to \(maxLimit)")
        }
        return DirectoryQuery(
            text: query?.isEmpty == false ? query : nil, after: after, limit: limit.map { Int($0) } ?? defaultLimit)
    }
}
