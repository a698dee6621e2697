/// Thrown by ``WebSocketClient/receiveText(timeout:)`` when a data event other than text (that is,
/// a binary message) arrives first. The event is consumed; it is carried here for diagnostics.
public struct WebSocketClientUnexpectedEvent: Error, Sendable, Equatable, CustomStringConvertible {
    /// The event that arrived instead of a text message.
    public let event: WebSocketClientEvent

    public init(event: WebSocketClientEvent) {
        self.event = event
    }

    public var description: String { "expected a text message, got \(event)" }
}
