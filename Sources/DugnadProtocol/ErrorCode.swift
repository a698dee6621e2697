/// Error codes of the wire contract (section 4). Stable: clients switch on them.
public enum ErrorCode: String, Sendable, Equatable, CaseIterable {
    case badRequest = "bad_request"
    case unauthorized
    case forbidden
    case notFound = "not_found"
    case conflict
    case tooLarge = "too_large"
    case rateLimited = "rate_limited"
    case `internal`
    /// Storage did not answer while checking credentials: try again shortly (HTTP 503).
    /// An addition to the contract's list.
    case unavailable
    /// Not a request error: the unsolicited warning sent ten seconds before a token expires.
    case tokenExpiring = "token_expiring"

    /// The HTTP status the HTTP API answers this error with.
    public var httpStatus: Int {
        switch self {
        case .badRequest: 400
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound: 404
        case .conflict: 409
        case .tooLarge: 413
        case .rateLimited: 429
        case .internal, .tokenExpiring: 500
        case .unavailable: 503
        }
    }
}

/// An error a client sees: in a `reply` with `ok:false`, as an unsolicited `error` event,
/// or as an HTTP error body.
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    /// Only for `rate_limited`: how long to wait before trying again.
    public var retryAfterMs: Int?

    public init(_ code: ErrorCode, _ message: String, retryAfterMs: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfterMs = retryAfterMs
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func badRequest(_ message: String) -> ProtocolError { ProtocolError(.badRequest, message) }
    public static func forbidden(_ message: String) -> ProtocolError { ProtocolError(.forbidden, message) }
    public static func notFound(_ message: String) -> ProtocolError { ProtocolError(.notFound, message) }

    /// Writes the `{"code":..,"message":..}` object.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writeFields(to: &writer)
        writer.endObject()
    }

    /// Writes `code`, `message` and `retry_after_ms` (when set) into an object the caller
    /// opened: the members of the error object, and of the unsolicited `error` event.
    public func writeFields(to writer: inout JSONWriter) {
        writer.field("code", code.rawValue)
        writer.field("message", message)
        if let retryAfterMs { writer.field("retry_after_ms", retryAfterMs) }
    }
}
