/// Size limits of the wire contract. Defaults are the contract's; a deployment may lower
/// or raise `maxFrameBytes` (it is announced in `welcome.server.max_frame_bytes`).
public struct Limits: Sendable, Equatable {
    /// Largest message after reassembling fragments; larger closes with 1009. Default 65,536.
    public var maxFrameBytes: Int = 65_536
    /// Largest `body` in UTF-8 bytes; larger is `too_large`. Default 16 KiB.
    public var maxBodyBytes: Int = 16_384
    public static let maxClientIDBytes = 64
    public static let maxTitleCharacters = 200
    /// A channel's `description`: a paragraph, not a page (a directory page of 200
    /// channels stays within a reply's byte bound for most of it).
    public static let maxDescriptionCharacters = 1_000
    public static let maxEmojiBytes = 32
    public static let maxHistoryLimit = 200
    public static let defaultHistoryLimit = 50
    public static let maxMembersLimit = 500
    public static let defaultMembersLimit = 100
    /// At most this many missed messages come back from a `join` with `since`.
    public static let maxRecoveredMessages = 1_000
    public static let maxIDBytes = 128
    /// Largest `meta` object, as compact JSON; larger is `too_large`. 4 KiB: room for a
    /// bot's attachment descriptor or a card, while a history page of 200 messages stays
    /// a few megabytes at most (before the reply's byte bound pages it further).
    public static let maxMetaBytes = 4_096

    public init(maxFrameBytes: Int = 65_536, maxBodyBytes: Int = 16_384) {
        self.maxFrameBytes = maxFrameBytes
        self.maxBodyBytes = maxBodyBytes
    }
}
