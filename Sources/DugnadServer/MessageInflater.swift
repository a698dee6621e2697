import CompressNIO
import NIOCore

/// Inflates one connection's compressed messages (permessage-deflate, RFC 7692 §7.2.2),
/// fragment by fragment, into a buffer that may never grow past the message limit: a
/// decompression bomb fails with `.tooBig` once its output passes the limit, having cost
/// at most about twice the limit, never what it would expand to.
///
/// The zlib stream (about 7 KiB, plus its 32 KiB window once used) is made on the first
/// compressed message. A client that takes no context over between messages gets it
/// dropped after each one, so its idle connection holds none. Confined to the
/// connection's event loop, like its handler.
final class MessageInflater {
    enum Failure: Error, Equatable {
        /// The output passed the limit (close with 1009).
        case tooBig
        /// Not a valid deflate stream (close with 1007).
        case corrupt
    }

    /// The client resets its compressor after each message, so we drop our stream.
    let resetsAfterMessage: Bool
    private var stream: ZlibDecompressor?

    init(resetsAfterMessage: Bool) {
        self.resetsAfterMessage = resetsAfterMessage
    }

    /// Inflates `fragment` (unmasked) onto `message`; `final` for the message's last
    /// fragment, whose stripped `00 00 ff ff` tail is put back first.
    func inflate(_ fragment: ByteBuffer, final: Bool, onto message: inout ByteBuffer, limit: Int) throws(Failure) {
        var input = fragment
        if final { input.writeBytes([0x00, 0x00, 0xFF, 0xFF]) }
        defer {
            if final, resetsAfterMessage { stream = nil }
        }
        guard input.readableBytes > 0 else { return }
        let stream: ZlibDecompressor
        do {
            stream = try self.stream ?? ZlibDecompressor(algorithm: .deflate, windowSize: 15)
        } catch {
            throw .corrupt
        }
        self.stream = stream
        while true {
            if message.writableBytes == 0 {
                // One byte past the limit is enough to tell a message that is too big.
                let room = limit + 1 - message.readableBytes
                guard room > 0 else { throw .tooBig }
                message.reserveCapacity(minimumWritableBytes: min(room, max(1_024, message.readableBytes)))
            }
            let overflowed: Bool
            do {
                try stream.inflate(from: &input, to: &message)
                overflowed = false
            } catch let error as CompressNIOError where error == .bufferOverflow {
                overflowed = true
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                // Every byte of input was taken: the rest comes with the next fragment.
                overflowed = false
            } catch {
                self.stream = nil
                throw .corrupt
            }
            if message.readableBytes > limit { throw .tooBig }
            if !overflowed {
                // Input left over after a clean return: the client ended its deflate stream
                // with a final block (BFINAL), so its next message starts a new one.
                if input.readableBytes > 0 { self.stream = nil }
                return
            }
        }
    }
}

@available(*, unavailable)
extension MessageInflater: Sendable {}
