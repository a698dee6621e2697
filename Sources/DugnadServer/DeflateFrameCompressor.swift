import CompressNIO
import DugnadCore
import NIOCore

/// The hub's permessage-deflate compressor (RFC 7692 §7.2.1): takes ready server frames,
/// back to back, and compresses each text or binary message of at least `thresholdBytes`
/// on its own (no context takeover), setting RSV1 and stripping the `00 00 ff ff` tail.
/// Smaller messages, control frames and messages that would not shrink stay as they are.
///
/// Each event loop has its own zlib streams (one per window size asked for, made on
/// first need and reset per message), so compressing needs no lock.
final class DeflateFrameCompressor: FrameCompressor {
    let thresholdBytes: Int
    private let streams: [ObjectIdentifier: NIOLoopBoundBox<DeflateStreams>]

    init(group: any EventLoopGroup, thresholdBytes: Int) {
        self.thresholdBytes = thresholdBytes
        var streams: [ObjectIdentifier: NIOLoopBoundBox<DeflateStreams>] = [:]
        for loop in group.makeIterator() {
            streams[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(DeflateStreams(), eventLoop: loop)
        }
        self.streams = streams
    }

    func compress(_ frames: ByteBuffer, windowBits: Int, on loop: any EventLoop) -> ByteBuffer {
        guard let box = streams[ObjectIdentifier(loop)] else { return frames }
        let streams = box.value
        var reader = frames
        var output: ByteBuffer?
        while reader.readableBytes > 0 {
            let start = reader.readerIndex
            // Our own frames, so never malformed; should one be, everything goes plain.
            guard let frame = ReadyFrame.read(from: &reader),
                let wholeFrame = frames.getSlice(at: start, length: reader.readerIndex - start)
            else { return frames }
            let compressible = frame.fin && (frame.opcode == 0x1 || frame.opcode == 0x2)
            if compressible, frame.payload.readableBytes >= thresholdBytes,
                let deflated = streams.deflate(frame.payload, windowBits: windowBits),
                deflated.readableBytes + 10 < frame.payload.readableBytes
            {
                // The frames before this one were kept plain: copied once, on the first
                // frame that compresses.
                var joined = output ?? frames.getSlice(at: frames.readerIndex, length: start - frames.readerIndex) ?? ByteBuffer()
                OutboundFrame.writeHeader(opcode: frame.opcode, length: deflated.readableBytes, compressed: true, into: &joined)
                joined.writeImmutableBuffer(deflated)
                output = joined
            } else if output != nil {
                output?.writeImmutableBuffer(wholeFrame)
            }
        }
        return output ?? frames
    }
}

/// One loop's zlib deflate streams, by window size. A stream is about 256 KiB (zlib's
/// window and hash tables at memory level 8): per loop, not per connection.
final class DeflateStreams {
    private var byWindow: [Int: ZlibCompressor] = [:]

    /// `payload` as one raw deflate message without its `00 00 ff ff` tail; nil if zlib
    /// failed (the frame then goes plain).
    func deflate(_ payload: ByteBuffer, windowBits: Int) -> ByteBuffer? {
        guard let stream = stream(windowBits: windowBits) else { return nil }
        var input = payload
        var output = ByteBufferAllocator().buffer(capacity: stream.maxSize(from: input))
        do {
            try stream.deflate(from: &input, to: &output, flush: .sync)
            try stream.reset()
        } catch {
            byWindow[windowBits] = nil
            return nil
        }
        guard output.readableBytes >= 4 else { return nil }
        output.moveWriterIndex(to: output.writerIndex - 4)
        return output
    }

    private func stream(windowBits: Int) -> ZlibCompressor? {
        if let stream = byWindow[windowBits] { return stream }
        // zlib's raw deflate has no 256-byte window: for a client that asked for 8 bits,
        // Huffman coding alone (no back-references at all) is valid for any window.
        let configuration =
            windowBits <= 8
            ? ZlibConfiguration(windowSize: .window2k, strategy: .huffmanOnly)
            : ZlibConfiguration(windowSize: Int32(windowBits))
        guard let stream = try? ZlibCompressor(algorithm: .deflate, configuration: configuration) else { return nil }
        byWindow[windowBits] = stream
        return stream
    }
}

@available(*, unavailable)
extension DeflateStreams: Sendable {}
