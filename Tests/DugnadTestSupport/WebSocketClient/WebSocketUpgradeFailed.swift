/// The server answered the upgrade request with an HTTP response other than `101 Switching Protocols`
/// (for example `400 Bad Request` when none of the offered subprotocols is supported, or `401`
/// when authorization is missing).
public struct WebSocketUpgradeFailed: Error, Sendable, CustomStringConvertible {
    /// The HTTP status code of the response, e.g. `400`.
    public let status: Int
    /// The response header fields, in the order the server sent them.
    public let headers: [(String, String)]
    /// The response body decoded as UTF-8 (invalid sequences replaced), capped at
    /// ``maximumBodyBytes`` bytes so a misbehaving server cannot make the client buffer forever.
    public let body: String

    /// How many body bytes are kept for ``body``; the rest is discarded.
    public static let maximumBodyBytes = 64 * 1024

    /// Creates the error; public so tests and tools can build expected values.
    public init(status: Int, headers: [(String, String)], body: String) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The value of the first header field named `name` (case-insensitive), if any.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.0.lowercased() == lowered }?.1
    }

    public var description: String {
        "WebSocket upgrade failed: HTTP \(status) \(body.isEmpty ? "(empty body)" : body)"
    }
}
