import Foundation
import NIOHTTP1

/// The two cookies of sign-in. Both `HttpOnly` (page scripts never see them),
/// `SameSite=Lax` (sent on the provider's redirect back, a top-level GET, but not with
/// another site's requests), `Secure` when the hub serves TLS, and scoped to `/auth`.
enum Cookies {
    /// The login's `state`, set at `/auth/login` and read at `/auth/callback`: the callback
    /// must come to the browser that started the login.
    static let login = "dugnad_login"
    /// The hub session's id; exchanged for session tokens at `/auth/session`.
    static let session = "dugnad_session"

    static func set(_ name: String, _ value: String, path: String, maxAgeSeconds: Int64, secure: Bool) -> (String, String) {
        var cookie = "\(name)=\(value); Path=\(path); Max-Age=\(maxAgeSeconds); HttpOnly; SameSite=Lax"
        if secure { cookie += "; Secure" }
        return ("set-cookie", cookie)
    }

    static func clear(_ name: String, path: String, secure: Bool) -> (String, String) {
        set(name, "", path: path, maxAgeSeconds: 0, secure: secure)
    }

    /// The value of cookie `name` in the request, or nil.
    static func value(_ name: String, in headers: HTTPHeaders) -> String? {
        for header in headers[canonicalForm: "cookie"] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else { continue }
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }
}
