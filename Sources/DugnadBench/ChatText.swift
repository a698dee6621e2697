/// Message bodies that read like chat: words and spaces from a fixed list in a fixed
/// pseudo-random order. A body of one repeated letter deflates to almost nothing and would
/// flatter compression; this text deflates about as well as real chat lines (roughly to
/// half), and is the same for every run, compressed or not.
enum ChatText {
    private static let words = [
        "the", "meeting", "is", "moved", "to", "room", "four", "after", "lunch", "please", "bring", "your", "notes",
        "and", "coffee", "dugnad", "saturday", "we", "need", "more", "hands", "for", "painting", "fence", "thanks",
        "everyone", "who", "came", "yesterday", "kari", "ola", "budget", "draft", "ready", "review", "by", "friday",
    ]

    /// `bytes` bytes of ASCII words separated by spaces.
    static func make(bytes: Int) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(bytes + 16)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        while text.count < bytes {
            // xorshift: the same sequence every run, no Foundation.
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            if !text.isEmpty { text.append(UInt8(ascii: " ")) }
            text.append(contentsOf: words[Int(state % UInt64(words.count))].utf8)
        }
        return Array(text.prefix(bytes))
    }
}
