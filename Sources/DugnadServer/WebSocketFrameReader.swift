import DugnadProtocol
import NIOCore
import NIOWebSocket

/// Cuts RFC 6455 frames out of the bytes a WebSocket connection receives, with the checks
/// NIO's `WebSocketFrameDecoder` makes, in the same order and as early: a frame longer than
/// `maxFrameBytes` (`.invalidFrameLength`, answered with 1009), a fragmented control frame
/// and a control frame over 125 bytes (answered with 1002) are refused as soon as their
/// length is known, before the payload arrives. Every other rule (masking, reserved bits and
/// opcodes, fragments, UTF-8) is `WebSocketMessageAssembler`'s.
///
/// The connection handlers own one instead of NIO's decoder, its `ByteToMessageHandler` and
/// the frame encoder in the pipeline: two handler contexts and three objects less per
/// connection (issue 14; the measurement is in docs/benchmarks.md, "The connection diet").
/// Between frames it keeps no buffer: only the tail of an incomplete frame is held.
/// After a refusal it reads nothing more, as NIO's decoder did.
struct WebSocketFrameReader {
    /// The longest payload a single frame may announce.
    let maxFrameBytes: Int
    /// Received bytes not yet cut into frames: nil whenever the last frame was complete.
    private var unparsed: ByteBuffer?
    /// Set once a frame was refused: the connection is closing, the rest is dropped.
    private(set) var hasRefused = false

    /// Bytes held for an incomplete frame (0 between frames: an idle connection keeps none).
    var heldBytes: Int { unparsed?.readableBytes ?? 0 }

    init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// Adds bytes as they came from the socket.
    mutating func append(_ bytes: ByteBuffer) {
        guard !hasRefused else { return }
        guard var held = unparsed else {
            unparsed = bytes
            return
        }
        // Taken out first, so that the write below finds one reference and does not copy.
        unparsed = nil
        var bytes = bytes
        // Move the incomplete frame to the front rather than grow the storage behind the
        // bytes already cut off: a 16 MiB frame in many reads then needs 16 MiB, not more.
        if held.readerIndex > 0, held.writableBytes < bytes.readableBytes { held.discardReadBytes() }
        held.writeBuffer(&bytes)
        unparsed = held
    }

    /// Adds bytes as they came from the socket and hands over, in order, every frame they
    /// complete; throws at the first refused frame (the frames before it were handed over).
    mutating func read(_ bytes: ByteBuffer, _ body: (WebSocketFrame) -> Void) throws(NIOWebSocketError) {
        append(bytes)
        while let frame = try next() { body(frame) }
    }

    /// The close code that answers a refused frame: 1009 for one too long, 1002 otherwise.
    static func closeCode(for error: NIOWebSocketError) -> CloseCode {
        error == .invalidFrameLength ? .messageTooBig : .protocolError
    }

    /// The next complete frame, nil until its last byte is in. The frame's data is still
    /// masked (`unmaskedData` reads it), as NIO's decoder hands it over.
    mutating func next() throws(NIOWebSocketError) -> WebSocketFrame? {
        guard !hasRefused, var buffer = unparsed else { return nil }
        let header: WebSocketFrameHeader
        do {
            guard let complete = try WebSocketFrameHeader(at: buffer, maxFrameBytes: maxFrameBytes) else { return nil }
            header = complete
        } catch {
            hasRefused = true
            unparsed = nil
            throw error
        }
        guard buffer.readableBytes >= header.byteCount + header.length else { return nil }
        buffer.moveReaderIndex(forwardBy: header.byteCount)
        let data = buffer.readSlice(length: header.length)!
        unparsed = buffer.readableBytes == 0 ? nil : buffer
        return WebSocketFrame(
            fin: header.firstByte & 0x80 != 0, rsv1: header.firstByte & 0x40 != 0, rsv2: header.firstByte & 0x20 != 0,
            rsv3: header.firstByte & 0x10 != 0, opcode: WebSocketOpcode(encodedWebSocketOpcode: header.firstByte & 0x0F)!,
            maskKey: header.maskKey, data: data)
    }
}
