/// Thrown when an operation with a deadline (``WebSocketClient/receive(timeout:)``,
/// ``WebSocketClient/receiveText(timeout:)``, or the opening handshake of `WebSocketClient.connect`,
/// bounded by its `handshakeTimeout`) does not finish in time.
public struct WebSocketClientTimeout: Error, Sendable, Equatable, CustomStringConvertible {
    public init() {}

    public var description: String { "WebSocket client operation timed out" }
}
