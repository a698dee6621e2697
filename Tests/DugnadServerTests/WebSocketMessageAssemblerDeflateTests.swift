import CompressNIO
import DugnadProtocol
import NIOCore
import NIOWebSocket
import Testing

@testable import DugnadServer

/// The assembler with permessage-deflate negotiated, without sockets: compressed messages
/// (whole or in fragments, with or without context carried over) come out inflated; RSV1
/// where RFC 7692 does not allow it fails with 1002, a bomb with 1009, garbage with 1007.
@Suite struct WebSocketMessageAssemblerDeflateTests {
    private func assembler(max: Int = 1_024, deflate: Bool = true, resets: Bool = false) -> WebSocketMessageAssembler {
        WebSocketMessageAssembler(
            maxMessageBytes: max, acceptsBinary: true, inflater: deflate ? MessageInflater(resetsAfterMessage: resets) : nil)
    }

    private func frame(_ opcode: WebSocketOpcode, _ bytes: [UInt8], fin: Bool = true, rsv1: Bool = false) -> WebSocketFrame {
        var data = ByteBuffer(bytes: bytes)
        let key: WebSocketMaskingKey? = WebSocketMaskingKey([0x12, 0x34, 0x56, 0x78])
        if let key { data.webSocketMask(key) }
        return WebSocketFrame(fin: fin, rsv1: rsv1, opcode: opcode, maskKey: key, data: data)
    }

    private func closeCode(_ action: WebSocketMessageAssembler.Action) -> CloseCode? {
        if case .close(let code, _) = action { return code }
        return nil
    }

    private let text = Array(String(repeating: "Lunsj i kantina klokka tolv? ", count: 20).utf8)

    @Test func aCompressedMessageComesOutInflated() throws {
        var machine = assembler()
        let compressed = try TestDeflate.compress(text)
        #expect(compressed.count < text.count / 4)
        #expect(machine.receive(frame(.text, compressed, rsv1: true)) == .text(ByteBuffer(bytes: text)))
        // An uncompressed message after it is still welcome.
        #expect(machine.receive(frame(.text, Array("plain".utf8))) == .text(ByteBuffer(string: "plain")))
    }

    @Test func aCompressedMessageInFragmentsIsInflatedAsItArrives() throws {
        var machine = assembler()
        let compressed = try TestDeflate.compress(text)
        let cut = compressed.count / 2
        #expect(machine.receive(frame(.text, Array(compressed[..<cut]), fin: false, rsv1: true)) == .ignore)
        #expect(machine.receive(frame(.ping, [])) == .sendPong(ByteBuffer()))
        #expect(machine.receive(frame(.continuation, Array(compressed[cut...]))) == .text(ByteBuffer(bytes: text)))
    }

    @Test func aClientThatKeepsItsContextBetweenMessagesIsUnderstood() throws {
        for resets in [false, true] {
            var machine = assembler(resets: resets)
            let stream = try ZlibCompressor(algorithm: .deflate)
            let first = try TestDeflate.compress(text, stream: resets ? nil : stream)
            let second = try TestDeflate.compress(text, stream: resets ? nil : stream)
            if !resets { #expect(second.count < first.count, "the second refers back to the first") }
            #expect(machine.receive(frame(.text, first, rsv1: true)) == .text(ByteBuffer(bytes: text)))
            #expect(machine.receive(frame(.text, second, rsv1: true)) == .text(ByteBuffer(bytes: text)))
        }
    }

    @Test func aClientThatEndsEachMessageWithAFinalBlockIsUnderstood() throws {
        var machine = assembler()
        for _ in 0..<2 {
            // BFINAL set: a complete deflate stream per message, no sync-flush tail to strip.
            let compressor = try ZlibCompressor(algorithm: .deflate)
            var input = ByteBuffer(bytes: text)
            var output = ByteBuffer()
            output.reserveCapacity(compressor.maxSize(from: input))
            try compressor.deflate(from: &input, to: &output, flush: .finish)
            #expect(machine.receive(frame(.text, Array(output.readableBytesView), rsv1: true)) == .text(ByteBuffer(bytes: text)))
        }
    }

    @Test func aDecompressionBombClosesWith1009() throws {
        var machine = assembler(max: 16_384)
        // 10 MiB of zeros is about 10 KiB compressed: within the frame limit, not once inflated.
        let bomb = try TestDeflate.compress(Array(repeating: 0x61, count: 10 << 20))
        #expect(bomb.count < 16_384)
        #expect(closeCode(machine.receive(frame(.text, bomb, rsv1: true))) == .messageTooBig)
    }

    @Test func aBombSpreadOverFragmentsClosesWith1009() throws {
        var machine = assembler(max: 1_024)
        let bomb = try TestDeflate.compress(Array(repeating: 0x61, count: 1 << 20))
        var action = WebSocketMessageAssembler.Action.ignore
        var offset = 0
        var first = true
        while offset < bomb.count, action == .ignore {
            let piece = Array(bomb[offset..<min(offset + 100, bomb.count)])
            offset += piece.count
            action = machine.receive(frame(first ? .text : .continuation, piece, fin: offset >= bomb.count, rsv1: first))
            first = false
        }
        #expect(closeCode(action) == .messageTooBig)
    }

    @Test func rsv1WithoutTheExtensionClosesWith1002() throws {
        var machine = assembler(deflate: false)
        #expect(closeCode(machine.receive(frame(.text, try TestDeflate.compress(text), rsv1: true))) == .protocolError)
    }

    @Test func rsv1OnAContinuationOrAControlFrameClosesWith1002() throws {
        var machine = assembler()
        #expect(machine.receive(frame(.text, Array("he".utf8), fin: false)) == .ignore)
        #expect(closeCode(machine.receive(frame(.continuation, Array("llo".utf8), rsv1: true))) == .protocolError)
        var pinged = assembler()
        #expect(closeCode(pinged.receive(frame(.ping, [], rsv1: true))) == .protocolError)
    }

    @Test func aPayloadThatIsNotDeflateClosesWith1007() {
        var machine = assembler()
        #expect(closeCode(machine.receive(frame(.text, [0xFF, 0xFF, 0xFF, 0xFF, 0x00], rsv1: true))) == .invalidPayload)
    }

    @Test func inflatedTextThatIsNotUTF8ClosesWith1007() throws {
        var machine = assembler()
        let compressed = try TestDeflate.compress(Array(repeating: 0xC3, count: 300))
        #expect(closeCode(machine.receive(frame(.text, compressed, rsv1: true))) == .invalidPayload)
    }
}
