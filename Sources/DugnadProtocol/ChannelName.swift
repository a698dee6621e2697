/// Channel names: `^[a-z0-9][a-z0-9._-]{0,63}$`.
public enum ChannelName {
    public static func isValid(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard !utf8.isEmpty, utf8.count <= 64 else { return false }
        for (index, byte) in utf8.enumerated() {
            let alnum =
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            if index == 0 {
                guard alnum else { return false }
            } else {
                guard alnum || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") else {
                    return false
                }
            }
        }
        return true
    }
}
