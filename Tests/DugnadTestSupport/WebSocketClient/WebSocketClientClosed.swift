/// Thrown by ``WebSocketClient/receiveText(timeout:)`` when the connection ends before a text
/// message arrives.
public struct WebSocketClientClosed: Error, Sendable, Equatable, CustomStringConvertible {
    /// The status code of the server's close frame; `nil` if the frame had no code or if the TCP
    /// connection dropped without a close frame (see ``receivedCloseFrame``).
    public let code: UInt16?
    /// The reason text of the server's close frame (empty if none or if there was no close frame).
    public let reason: String
    /// `true` if the server sent a close frame, `false` if the TCP connection simply went away.
    public let receivedCloseFrame: Bool

    /// Creates the error; public so tests can build expected values.
    public init(code: UInt16?, reason: String, receivedCloseFrame: Bool = true) {
        self.code = code
        self.reason = reason
        self.receivedCloseFrame = receivedCloseFrame
    }

    public var description: String {
        guard receivedCloseFrame else { return "WebSocket disconnected without a close frame" }
        let codeText = code.map { String($0) } ?? "no code"
        return "WebSocket closed by server (\(codeText))\(reason.isEmpty ? "" : ": \(reason)")"
    }
}
