/// The mentions in a message body: `@id` for a user, `@channel` for every member.
///
/// An id is a run of ASCII letters, digits and `.`, `_`, `-`, `+`, `@` (what the user
/// ids of a directory or an identity provider are made of: `kari`, `ola.nordmann`,
/// `kari@firma.no`), at most `Limits.maxIDBytes` bytes; a trailing `.` or `-` is
/// punctuation ("ask @kari."), not part of it. The `@` must start the body or follow a
/// character that cannot be part of an id, so that an e-mail address in running text
/// (`ola@firma.no`) mentions nobody. A user whose id holds other characters cannot be
/// mentioned, and one whose id is `channel` is not mentioned by `@channel`.
///
/// Pure: the hub decides who may mention the channel, and the store keeps only ids of
/// the channel's members (so a mention reveals nothing about who exists).
public struct Mentions: Sendable, Equatable {
    /// Distinct ids in order of first appearance, at most `maxIDs`.
    public var ids: [String]
    /// `@channel` appeared.
    public var channel: Bool

    public init(ids: [String] = [], channel: Bool = false) {
        self.ids = ids
        self.channel = channel
    }

    /// More `@id`s than this in one body are left unmentioned: a message to fifty people
    /// by name is a broadcast, and the rows and events of a publish stay bounded.
    public static let maxIDs = 50
    static let maxIDBytes = 128

    public static func parse(_ body: String) -> Mentions {
        var result = Mentions()
        let bytes = Array(body.utf8)
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "@"), index == 0 || !isIDByte(bytes[index - 1]) else {
                index += 1
                continue
            }
            var end = index + 1
            while end < bytes.count, isIDByte(bytes[end]) { end += 1 }
            var last = end
            while last > index + 1, bytes[last - 1] == UInt8(ascii: ".") || bytes[last - 1] == UInt8(ascii: "-") {
                last -= 1
            }
            let length = last - index - 1
            if length > 0, length <= maxIDBytes {
                let id = String(decoding: bytes[(index + 1)..<last], as: UTF8.self)
                if id == "channel" {
                    result.channel = true
                } else if result.ids.count < maxIDs, !result.ids.contains(id) {
                    result.ids.append(id)
                }
            }
            index = end
        }
        return result
    }

    /// ASCII letters, digits and `. _ - + @`.
    static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "@"):
            true
        default:
            false
        }
    }
}

extension Mentions {
    /// How engines keep a message's mentions in one text column: the ids separated by
    /// spaces (no id has one), nil for none, so a message without mentions costs nothing.
    public static func storedText(_ ids: [String]) -> String? {
        ids.isEmpty ? nil : ids.joined(separator: " ")
    }

    /// The ids of a `storedText`.
    public static func ids(storedText: String?) -> [String] {
        storedText.map { $0.split(separator: " ").map(String.init) } ?? []
    }
}
