import NIOHTTP1

/// Headers on every HTTP response: the browser must not guess content types, the web
/// client must not be framed by another site (clickjacking: a hidden frame over a button
/// such as "Acknowledge"), and no page URL leaks to other sites as a referrer.
enum SecurityHeaders {
    static let all: [(String, String)] = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("content-security-policy", "frame-ancestors 'none'"),
        ("referrer-policy", "no-referrer"),
    ]

    static func add(to headers: inout HTTPHeaders) {
        for (name, value) in all { headers.add(name: name, value: value) }
    }
}
