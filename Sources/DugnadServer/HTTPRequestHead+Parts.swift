import Foundation
import NIOHTTP1

/// The parts of a request that the upgrade, the HTTP API and the static files all read,
/// parsed in one place.
extension HTTPRequestHead {
    /// The URI without its query, undecoded ("/" when empty).
    var path: String {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return path.isEmpty ? "/" : path
    }

    /// Query parameters, percent- and `+`-decoded; the first occurrence of a name wins.
    var queryParameters: [String: String] {
        guard let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = parts.first.map(String.init), result[key] == nil else { continue }
            let value = parts.count > 1 ? String(parts[1]) : ""
            result[key] = value.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? value
        }
        return result
    }

    /// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive);
    /// nil without one or when it is empty.
    var bearerToken: String? {
        guard let authorization = headers.first(name: "authorization") else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        // Spaces and tabs trimmed on the bytes: Foundation's `trimmingCharacters` bridged
        // every connection's token through NSString, 3 % of the event loop's samples in the
        // morning rush. A token is base64url and dots, so no other space can belong to one
        // (and one that holds any fails verification either way).
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var token = parts[1].utf8.drop(while: isBlank)
        while let last = token.last, isBlank(last) { token = token.dropLast() }
        return token.isEmpty ? nil : String(Substring(token))
    }
}
