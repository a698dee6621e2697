import CompressNIO
import NIOCore

/// permessage-deflate payloads as a client makes and reads them (RFC 7692 §7.2), through
/// compress-nio's zlib: the tests compress what they send and inflate what the hub sent.
enum TestDeflate {
    /// `bytes` as one compressed message's payload: a sync-flushed raw deflate block
    /// without its `00 00 ff ff` tail. With `stream`, its context carries over.
    static func compress(_ bytes: [UInt8], stream: ZlibCompressor? = nil) throws -> [UInt8] {
        let compressor = try stream ?? ZlibCompressor(algorithm: .deflate)
        var input = ByteBuffer(bytes: bytes)
        var output = ByteBuffer()
        output.reserveCapacity(compressor.maxSize(from: input))
        try compressor.deflate(from: &input, to: &output, flush: .sync)
        return Array(output.readableBytesView.dropLast(4))
    }

    /// One compressed message's payload inflated (without context from earlier messages).
    static func inflate(_ payload: [UInt8]) throws -> [UInt8] {
        var input = ByteBuffer(bytes: payload + [0x00, 0x00, 0xFF, 0xFF])
        return Array(try input.decompress(with: .deflate, maxSize: 1 << 24).readableBytesView)
    }
}
