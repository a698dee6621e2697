/// Something the server sent (or did) on a ``WebSocketClient`` connection, in arrival order.
///
/// Data messages are reported whole: a fragmented text or binary message is reassembled and
/// reported once, as a single `.text` or `.binary` event. Control frames are reported as they
/// arrive, including those interleaved between the fragments of a data message.
public enum WebSocketClientEvent: Sendable, Equatable {
    /// A complete text message (validated as UTF-8).
    case text(String)
    /// A complete binary message.
    case binary([UInt8])
    /// A ping frame with its payload. When the client was created with `autoPong: true` the
    /// matching pong has already been sent by the time this event is read.
    case ping([UInt8])
    /// A pong frame with its payload.
    case pong([UInt8])
    /// The server's close frame. `code` is `nil` when the frame carried no status code;
    /// `reason` is empty when it carried no reason text.
    case close(code: UInt16?, reason: String)
    /// The TCP connection is gone, with no (further) close frame. This is always the last event;
    /// once it has been read, every later `receive` returns `.disconnected` immediately.
    case disconnected
}
