/// The opening handshake failed for a reason other than a non-101 HTTP status (which is reported
/// as ``WebSocketUpgradeFailed``): a wrong `Sec-WebSocket-Accept`, a subprotocol the client did not
/// offer, a malformed response, or the connection closing mid-handshake.
public struct WebSocketHandshakeError: Error, Sendable, CustomStringConvertible {
    /// Human-readable explanation of what was wrong with the handshake.
    public let reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { "WebSocket handshake failed: \(reason)" }
}
