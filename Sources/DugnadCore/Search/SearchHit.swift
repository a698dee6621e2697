/// One message found by `search`, with the excerpt to show for it.
public struct SearchHit: Sendable, Equatable {
    public var message: StoredMessage
    public var excerpt: SearchExcerpt

    public init(message: StoredMessage, excerpt: SearchExcerpt) {
        self.message = message
        self.excerpt = excerpt
    }
}
