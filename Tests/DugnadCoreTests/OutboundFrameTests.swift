import DugnadCore
import NIOCore
import Testing

/// Server frames as the hub writes them (RFC 6455 §5.2, §5.5.1).
@Suite struct OutboundFrameTests {
    @Test func aCloseFrameCarriesTheCodeAndAReasonCutAtACharacterBoundaryWithin125Bytes() {
        // 60 two-byte characters: 120 bytes fit, the 62nd character would pass 123.
        var frame = OutboundFrame.close(code: 4008, reason: String(repeating: "ø", count: 70))
        #expect(frame.readInteger(as: UInt8.self) == 0x88)
        let length = Int(frame.readInteger(as: UInt8.self) ?? 0)
        #expect(length <= 125)
        #expect(frame.readInteger(as: UInt16.self) == 4008)
        let reason = frame.readBytes(length: length - 2) ?? []
        #expect(reason.count == 122)
        #expect(String(validating: reason, as: UTF8.self) == String(repeating: "ø", count: 61))
    }

    @Test func aCloseFrameWithoutReasonIsJustTheCode() {
        var frame = OutboundFrame.close(code: 1000)
        #expect(frame.readBytes(length: frame.readableBytes) == [0x88, 2, 0x03, 0xE8])
    }

    @Test func payloadsComeBackOutOfFramesOfEveryLengthClassJoinedBackToBack() {
        let payloads: [[UInt8]] = [
            [], Array("{}".utf8), Array(repeating: 0x61, count: 126), Array(repeating: 0x62, count: 70_000),
        ]
        var joined = ByteBufferAllocator().buffer(capacity: 0)
        for payload in payloads { joined.writeImmutableBuffer(OutboundFrame.make(payload)) }
        #expect(OutboundFrame.payloads(in: joined) == payloads)
        #expect(OutboundFrame.payloads(in: OutboundFrame.make(Array("x".utf8))) == [Array("x".utf8)])
        var cut = OutboundFrame.make(Array(repeating: 0x63, count: 300))
        cut.moveWriterIndex(to: cut.writerIndex - 1)
        #expect(OutboundFrame.payloads(in: cut).isEmpty, "an incomplete frame yields nothing")
    }
}
