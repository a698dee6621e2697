/// A channel's `description` as a frame or an HTTP body carries it: a string of at most
/// `Limits.maxDescriptionCharacters` characters, or null (or "") to remove it.
public enum ChannelDescription {
    /// The description to store; nil removes it. Whitespace around it is dropped, so that
    /// a description of spaces is none.
    public static func checked(_ value: JSONValue?) throws(ProtocolError) -> String? {
        switch value {
        case nil, .null?:
            return nil
        case .string(let text)?:
            guard text.count <= Limits.maxDescriptionCharacters else {
                throw .badRequest("'description' must be at most \(Limits.maxDescriptionCharacters) characters")
            }
            guard !text.utf8.contains(0) else { throw .badRequest("'description' must not contain U+0000") }
            let trimmed = text.trimmingWhitespace()
            return trimmed.isEmpty ? nil : trimmed
        default:
            throw .badRequest("'description' must be a string or null")
        }
    }
}

extension String {
    /// Without the whitespace and newlines at either end (Foundation-free: the protocol
    /// module imports nothing).
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
