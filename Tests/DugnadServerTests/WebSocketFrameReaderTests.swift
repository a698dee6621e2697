import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import DugnadServer

/// The frame reader without a channel: frames cut out of bytes however they are split,
/// masks kept for the assembler, the limits refused from the header (before the payload),
/// nothing held between frames, nothing read after a refusal; and, on random streams, the
/// same frames and the same refusals as NIO's `WebSocketFrameDecoder`, which it replaced.
@Suite struct WebSocketFrameReaderTests {
    private func bytes(_ buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

    @Test func aMaskedTextFrameInOneReadComesOutWithItsMaskAndPayload() throws {
        var reader = WebSocketFrameReader(maxFrameBytes: 1_024)
        reader.append(ClientFrame.text("héllo"))
        let frame = try #require(try reader.next())
        #expect(frame.fin && frame.opcode == .text && !frame.rsv1)
        #expect(frame.maskKey != nil)
        #expect(bytes(frame.unmaskedData) == Array("héllo".utf8))
        #expect(try reader.next() == nil)
        #expect(reader.heldBytes == 0, "nothing is kept between frames")
    }

    @Test func aFrameSplitByteByByteComesOutOnceItsLastByteIsIn() throws {
        var reader = WebSocketFrameReader(maxFrameBytes: 1_024)
        let wire = bytes(ClientFrame.text(String(repeating: "x", count: 300)))
        for byte in wire.dropLast() {
            reader.append(ByteBuffer(bytes: [byte]))
            #expect(try reader.next() == nil)
        }
        reader.append(ByteBuffer(bytes: [wire.last!]))
        let frame = try #require(try reader.next())
        #expect(frame.unmaskedData.readableBytes == 300)
        #expect(reader.heldBytes == 0)
    }

    @Test func severalFramesInOneReadComeOutInOrderAndAPartialOneWaits() throws {
        var reader = WebSocketFrameReader(maxFrameBytes: 1_024)
        var read = ClientFrame.text("one", fin: false)
        read.writeImmutableBuffer(ClientFrame.bytes(opcode: ClientFrame.ping, [7]))
        var last = ClientFrame.bytes(opcode: ClientFrame.continuation, Array("two".utf8))
        read.writeImmutableBuffer(last.readSlice(length: 3)!)
        reader.append(read)
        let first = try #require(try reader.next())
        #expect(!first.fin && first.opcode == .text && bytes(first.unmaskedData) == Array("one".utf8))
        let ping = try #require(try reader.next())
        #expect(ping.opcode == .ping && bytes(ping.unmaskedData) == [7])
        #expect(try reader.next() == nil)
        #expect(reader.heldBytes == 3)
        reader.append(last)
        let continuation = try #require(try reader.next())
        #expect(continuation.fin && continuation.opcode == .continuation)
        #expect(bytes(continuation.unmaskedData) == Array("two".utf8))
    }

    @Test(arguments: [0, 125, 126, 65_535, 65_536, 70_000])
    func everyLengthEncodingIsRead(length: Int) throws {
        var reader = WebSocketFrameReader(maxFrameBytes: 1 << 20)
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
        reader.append(ClientFrame.bytes(opcode: ClientFrame.binary, payload))
        let frame = try #require(try reader.next())
        #expect(bytes(frame.unmaskedData) == payload)
    }

    @Test func unmaskedFramesReservedBitsAndReservedOpcodesArePassedOnForTheAssemblerToJudge() throws {
        var reader = WebSocketFrameReader(maxFrameBytes: 1_024)
        reader.append(ClientFrame.bytes(opcode: ClientFrame.text, Array("hi".utf8), masked: false))
        reader.append(ClientFrame.bytes(opcode: 0x3, [1], rsv1: true))
        let unmasked = try #require(try reader.next())
        #expect(unmasked.maskKey == nil && bytes(unmasked.data) == Array("hi".utf8))
        let reserved = try #require(try reader.next())
        #expect(reserved.rsv1 && reserved.opcode == WebSocketOpcode(encodedWebSocketOpcode: 0x3))
    }

    @Test func aFrameOverTheLimitIsRefusedFromItsHeaderBeforeThePayloadArrives() throws {
        var reader = WebSocketFrameReader(maxFrameBytes: 1_024)
        var header = ByteBuffer(bytes: [0x81, 0x80 | 126])
        header.writeInteger(UInt16(1_025))
        reader.append(header)
        #expect(throws: NIOWebSocketError.invalidFrameLength) { try reader.next() }
    }

    @Test func aLengthBeyondIntMaxIsRefused() throws {
        var reader = WebSocketFrameReader(maxFrameBytes: Int.max)
        var header = ByteBuffer(bytes: [0x82, 0x80 | 127])
        header.writeInteger(UInt64.max)
        reader.append(header)
        #expect(throws: NIOWebSocketError.invalidFrameLength) { try reader.next() }
    }

    @Test func aFragmentedControlFrameIsRefused() throws {
        var reader = WebSocketFrameReader(maxFrameBytes: 1_024)
        reader.append(ClientFrame.bytes(opcode: ClientFrame.ping, [1], fin: false))
        #expect(throws: NIOWebSocketError.fragmentedControlFrame) { try reader.next() }
    }

    @Test func aControlFrameOver125BytesIsRefusedFromItsHeader() throws {
        var reader = WebSocketFrameReader(maxFrameBytes: 1_024)
        reader.append(ByteBuffer(bytes: [0x89, 0x80 | 126, 0, 126]))
        #expect(throws: NIOWebSocketError.multiByteControlFrameLength) { try reader.next() }
    }

    @Test func afterARefusalNothingMoreIsRead() throws {
        var reader = WebSocketFrameReader(maxFrameBytes: 4)
        reader.append(ClientFrame.text("too long"))
        #expect(throws: NIOWebSocketError.invalidFrameLength) { try reader.next() }
        #expect(reader.hasRefused)
        reader.append(ClientFrame.text("ok"))
        #expect(try reader.next() == nil)
        #expect(reader.heldBytes == 0)
    }

    /// Random frames (every opcode, fin and RSV bit, masked or not, the three length
    /// encodings, some over the limit or breaking the control-frame rules) cut at random
    /// points: the reader yields what NIO's decoder yields, and refuses where it refuses.
    @Test(arguments: 0..<40)
    func onRandomStreamsItAgreesWithNIOsDecoder(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &+ 0x5EED)
        let limit = 300
        var wire = ByteBuffer()
        for _ in 0..<Int(random.next() % 12 + 1) {
            let opcode = UInt8(random.next() % 16)
            let length = [0, 1, 5, 125, 126, 200, 301, 70_000][Int(random.next() % 8)]
            var first = opcode | UInt8(random.next() % 16) << 4
            if random.next() % 8 != 0 { first |= 0x80 }
            let masked = random.next() % 6 != 0
            wire.writeInteger(first)
            let maskBit: UInt8 = masked ? 0x80 : 0
            if length < 126 {
                wire.writeInteger(maskBit | UInt8(length))
            } else if length <= 65_535 {
                wire.writeInteger(maskBit | 126)
                wire.writeInteger(UInt16(length))
            } else {
                wire.writeInteger(maskBit | 127)
                wire.writeInteger(UInt64(length))
            }
            if masked { wire.writeInteger(UInt32(truncatingIfNeeded: random.next())) }
            wire.writeBytes((0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        }
        var pieces: [ByteBuffer] = []
        while wire.readableBytes > 0 {
            pieces.append(wire.readSlice(length: min(wire.readableBytes, Int(random.next() % 400) + 1))!)
        }

        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: limit)))
        var nioFrames: [WebSocketFrame] = []
        var nioError: NIOWebSocketError?
        for piece in pieces where nioError == nil {
            do {
                try channel.writeInbound(piece)
            } catch let error as NIOWebSocketError {
                nioError = error
            }
            while let frame = try channel.readInbound(as: WebSocketFrame.self) { nioFrames.append(frame) }
        }
        _ = try? channel.finish()

        var reader = WebSocketFrameReader(maxFrameBytes: limit)
        var ourFrames: [WebSocketFrame] = []
        var ourError: NIOWebSocketError?
        for piece in pieces where ourError == nil {
            reader.append(piece)
            do {
                while let frame = try reader.next() { ourFrames.append(frame) }
            } catch {
                ourError = error
            }
        }
        #expect(ourError == nioError)
        #expect(ourFrames == nioFrames)
    }
}
