import Crypto

/// The name of the direct channel of a set of people: `dm-` and 32 hex digits of the
/// SHA-256 of the sorted member ids. The same set gives the same name whoever asks and in
/// whatever order; 128 bits keep two sets from meeting by chance.
///
/// The form is reserved: no `join`, admin or CLI may create a channel whose name has it
/// (`isReserved`), so a name can neither be squatted before its people talk nor collide
/// with an ordinary channel. (A valid channel name, so every command that takes a channel
/// takes it.)
public enum DirectChannelName {
    public static let prefix = "dm-"
    static let hexDigits = 32

    /// The name for `members` (the caller and the others; order and repeats do not matter).
    /// Each id is hashed with its length in front, so that no two different sets of ids
    /// (which may hold any character but U+0000) give the same input.
    public static func of(members: some Sequence<String>) -> String {
        var input: [UInt8] = []
        for id in Set(members).sorted() {
            input.append(contentsOf: "\(id.utf8.count):".utf8)
            input.append(contentsOf: id.utf8)
        }
        let digest = SHA256.hash(data: input)
        let hex = digest.prefix(hexDigits / 2).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }
        return prefix + hex.joined()
    }

    /// Whether `name` has the direct form (`dm-` and 32 lower-case hex digits).
    public static func isReserved(_ name: String) -> Bool {
        guard name.hasPrefix(prefix) else { return false }
        let digits = name.utf8.dropFirst(prefix.utf8.count)
        return digits.count == hexDigits
            && digits.allSatisfy {
                ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
            }
    }

    /// A direct channel's title as one member sees it: the other members' names, sorted,
    /// comma-separated (the viewer's own name when it is alone, which `direct` never makes).
    public static func title(members: [(id: String, name: String)], viewer: String) -> String {
        let others = members.filter { $0.id != viewer }.map(\.name).sorted()
        guard !others.isEmpty else { return members.first { $0.id == viewer }?.name ?? viewer }
        return others.joined(separator: ", ")
    }
}
