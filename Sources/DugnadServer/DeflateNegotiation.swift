/// Reads a client's `Sec-WebSocket-Extensions` offers and picks the first permessage-deflate
/// offer the hub can honour (RFC 7692 §5, §7.1). Pure, so every offer shape is tested without
/// sockets. An offer that is malformed or asks for what we cannot do is declined, never an
/// error: the connection then simply goes uncompressed.
enum DeflateNegotiation {
    static let extensionName = "permessage-deflate"

    /// The agreement for the first acceptable offer among `headerValues` (every
    /// `Sec-WebSocket-Extensions` line of the request), or nil.
    static func agree(offers headerValues: [String]) -> DeflateAgreement? {
        for element in headerValues.flatMap({ split($0, on: ",") }) {
            let parts = split(element, on: ";")
            guard let name = parts.first, name.lowercased() == extensionName else { continue }
            if let agreement = accept(parameters: parts.dropFirst()) { return agreement }
        }
        return nil
    }

    /// One offer's parameters; nil when any is unknown, repeated or out of range (§7.1:
    /// such an offer must be declined).
    static func accept(parameters: ArraySlice<String>) -> DeflateAgreement? {
        var agreement = DeflateAgreement()
        var seen = Set<String>()
        for parameter in parameters {
            let (name, value) = nameAndValue(parameter)
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                // We answer with it whether asked or not.
                guard value == nil else { return nil }
            case "client_no_context_takeover":
                guard value == nil else { return nil }
                agreement.clientNoContextTakeover = true
            case "server_max_window_bits":
                // Required value; 8 is honoured too (compressed without back-references,
                // since zlib's raw deflate has no 256-byte window).
                guard let value, let bits = windowBits(value) else { return nil }
                agreement.serverMaxWindowBits = bits
                agreement.serverWindowWasLimited = true
            case "client_max_window_bits":
                // A hint that the client may compress with a smaller window: our inflater's
                // 15 bits read any, so the answer need not name it.
                if let value, windowBits(value) == nil { return nil }
            default:
                return nil
            }
        }
        return agreement
    }

    /// 8 to 15, written without a leading zero (§7.1.2.1).
    static func windowBits(_ text: String) -> Int? {
        guard !text.hasPrefix("0"), text.count <= 2, let bits = Int(text), (8...15).contains(bits) else { return nil }
        return bits
    }

    /// `name` or `name=value`; a quoted value loses its quotes (§7.1: same meaning).
    static func nameAndValue(_ parameter: String) -> (name: String, value: String?) {
        guard let equals = parameter.firstIndex(of: "=") else { return (parameter.lowercased(), nil) }
        let name = parameter[..<equals].trimmingSpaces.lowercased()
        var value = parameter[parameter.index(after: equals)...].trimmingSpaces
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
        return (name, value)
    }

    /// Splits on `separator` outside quoted strings, trims spaces, drops empty pieces.
    static func split(_ text: String, on separator: Character) -> [String] {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if character == separator, !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        return pieces.map(\.trimmingSpaces).filter { !$0.isEmpty }
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
