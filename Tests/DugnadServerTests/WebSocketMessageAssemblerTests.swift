import DugnadProtocol
import NIOCore
import NIOWebSocket
import Testing

@testable import DugnadServer

/// The frame rules shared by `/ws` and the echo endpoint, without sockets: reassembly and
/// its limit, fail-fast UTF-8, control frames, reserved bits and opcodes, masking, and the
/// close handshake's code checks.
@Suite struct WebSocketMessageAssemblerTests {
    private typealias Action = WebSocketMessageAssembler.Action

    private func assembler(max: Int = 64, binary: Bool = true) -> WebSocketMessageAssembler {
        WebSocketMessageAssembler(maxMessageBytes: max, acceptsBinary: binary)
    }

    /// A client frame, masked as clients must (the assembler sees the masked bytes).
    private func frame(
        _ opcode: WebSocketOpcode, _ bytes: [UInt8], fin: Bool = true, masked: Bool = true, rsv1: Bool = false,
        rsv2: Bool = false, rsv3: Bool = false
    ) -> WebSocketFrame {
        var data = ByteBuffer(bytes: bytes)
        let key: WebSocketMaskingKey? = masked ? WebSocketMaskingKey([0x12, 0x34, 0x56, 0x78]) : nil
        if let key { data.webSocketMask(key) }
        return WebSocketFrame(fin: fin, rsv1: rsv1, rsv2: rsv2, rsv3: rsv3, opcode: opcode, maskKey: key, data: data)
    }

    private func frame(_ opcode: WebSocketOpcode, _ text: String, fin: Bool = true) -> WebSocketFrame {
        frame(opcode, Array(text.utf8), fin: fin)
    }

    private func closePayload(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xff)] + reason
    }

    private func closeCode(_ action: Action) -> CloseCode? {
        if case .close(let code, _) = action { return code }
        return nil
    }

    // MARK: Messages

    @Test func aSingleTextFrameIsDeliveredUnmasked() {
        var machine = assembler()
        #expect(machine.receive(frame(.text, "hello")) == .text(ByteBuffer(string: "hello")))
    }

    @Test func anEmptyTextMessageIsDelivered() {
        var machine = assembler()
        #expect(machine.receive(frame(.text, [])) == .text(ByteBuffer()))
    }

    @Test func fragmentsAreReassembledWithControlFramesBetweenThem() {
        var machine = assembler()
        #expect(machine.receive(frame(.text, "he", fin: false)) == .ignore)
        #expect(machine.receive(frame(.ping, "p")) == .sendPong(ByteBuffer(string: "p")))
        #expect(machine.receive(frame(.continuation, "ll", fin: false)) == .ignore)
        #expect(machine.receive(frame(.continuation, "o")) == .text(ByteBuffer(string: "hello")))
        // And the next message starts afresh.
        #expect(machine.receive(frame(.text, "again")) == .text(ByteBuffer(string: "again")))
    }

    @Test func binaryMessagesAreDeliveredWhenAccepted() {
        var machine = assembler()
        #expect(machine.receive(frame(.binary, [0xFF], fin: false)) == .ignore)
        #expect(machine.receive(frame(.continuation, [0x00])) == .binary(ByteBuffer(bytes: [0xFF, 0x00])))
    }

    @Test func theFirstBinaryFrameClosesWith1003WhenNotAccepted() {
        var machine = assembler(binary: false)
        #expect(closeCode(machine.receive(frame(.binary, [1], fin: false))) == .unsupportedData)
        #expect(machine.receive(frame(.text, "after")) == .ignore)
    }

    @Test func aMessageOfExactlyTheLimitPassesAndOneByteMoreClosesWith1009() {
        var machine = assembler(max: 8)
        #expect(machine.receive(frame(.text, "12345678")) == .text(ByteBuffer(string: "12345678")))
        #expect(closeCode(machine.receive(frame(.text, "123456789"))) == .messageTooBig)
    }

    @Test func theLimitAppliesToTheSumOfFragments() {
        var machine = assembler(max: 8)
        #expect(machine.receive(frame(.text, "1234", fin: false)) == .ignore)
        #expect(machine.receive(frame(.continuation, "5678", fin: false)) == .ignore)
        #expect(closeCode(machine.receive(frame(.continuation, "9"))) == .messageTooBig)
    }

    @Test func aContinuationWithoutAMessageClosesWith1002() {
        var machine = assembler()
        #expect(closeCode(machine.receive(frame(.continuation, "x"))) == .protocolError)
    }

    @Test func aNewMessageInsideAFragmentedOneClosesWith1002() {
        var machine = assembler()
        #expect(machine.receive(frame(.text, "a", fin: false)) == .ignore)
        #expect(closeCode(machine.receive(frame(.text, "b"))) == .protocolError)
    }

    // MARK: UTF-8

    @Test func validMultiByteTextSplitAcrossFragmentsIsDelivered() {
        let bytes = Array("κόσμε 🌍".utf8)
        var machine = assembler()
        // Split inside the four-byte character.
        let cut = bytes.count - 2
        #expect(machine.receive(frame(.text, Array(bytes[..<cut]), fin: false)) == .ignore)
        #expect(machine.receive(frame(.continuation, Array(bytes[cut...]))) == .text(ByteBuffer(bytes: bytes)))
    }

    @Test func anInvalidSequenceFailsOnTheFragmentThatCarriesItWith1007() {
        var machine = assembler()
        #expect(machine.receive(frame(.text, "ok", fin: false)) == .ignore)
        // 0xF4 0x90 would be above U+10FFFF: fail now, before the message ends.
        #expect(closeCode(machine.receive(frame(.continuation, [0xF4, 0x90], fin: false))) == .invalidPayload)
    }

    @Test func aMessageThatEndsInsideACharacterClosesWith1007() {
        var machine = assembler()
        #expect(closeCode(machine.receive(frame(.text, [0xCE]))) == .invalidPayload)
    }

    @Test func overlongFormsSurrogatesAndStrayContinuationBytesAreRejected() {
        for bytes: [UInt8] in [
            [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0x80], [0xFF], [0xF8, 0x88, 0x80, 0x80, 0x80],
        ] {
            var machine = assembler()
            #expect(closeCode(machine.receive(frame(.text, bytes))) == .invalidPayload, "\(bytes)")
        }
    }

    @Test func theValidatorAgreesWithSwiftOnBoundaryCodePoints() {
        for scalar in [0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFF, 0x10000, 0x10FFFF] {
            let bytes = Array(String(Character(Unicode.Scalar(UInt32(scalar))!)).utf8)
            var validator = UTF8Validator()
            #expect(validator.consume(ByteBuffer(bytes: bytes).readableBytesView) && validator.isAtCharacterBoundary)
        }
    }

    // MARK: Frame header rules

    @Test func anUnmaskedClientFrameClosesWith1002() {
        var machine = assembler()
        #expect(closeCode(machine.receive(frame(.text, Array("hi".utf8), masked: false))) == .protocolError)
    }

    @Test func anyReservedBitClosesWith1002() {
        for (rsv1, rsv2, rsv3) in [(true, false, false), (false, true, false), (false, false, true)] {
            var machine = assembler()
            let action = machine.receive(frame(.text, Array("hi".utf8), rsv1: rsv1, rsv2: rsv2, rsv3: rsv3))
            #expect(closeCode(action) == .protocolError)
        }
    }

    @Test func reservedOpcodesCloseWith1002() {
        for raw: UInt8 in [0x3, 0x7, 0xB, 0xF] {
            var machine = assembler()
            let opcode = WebSocketOpcode(encodedWebSocketOpcode: raw)!
            #expect(closeCode(machine.receive(frame(opcode, []))) == .protocolError, "opcode \(raw)")
        }
    }

    @Test func controlFramesThatAreFragmentedOrOver125BytesCloseWith1002() {
        var fragmented = assembler()
        #expect(closeCode(fragmented.receive(frame(.ping, [], fin: false))) == .protocolError)
        var long = assembler()
        #expect(closeCode(long.receive(frame(.ping, [UInt8](repeating: 0x61, count: 126)))) == .protocolError)
        var atLimit = assembler()
        let payload = [UInt8](repeating: 0x61, count: 125)
        #expect(atLimit.receive(frame(.ping, payload)) == .sendPong(ByteBuffer(bytes: payload)))
    }

    @Test func aPongIsReported() {
        var machine = assembler()
        #expect(machine.receive(frame(.pong, "x")) == .pongReceived)
    }

    // MARK: Close

    @Test func aValidCloseCodeIsEchoedAndLaterFramesAreIgnored() {
        for code: UInt16 in [1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999] {
            var machine = assembler()
            #expect(machine.receive(frame(.connectionClose, closePayload(code, Array("bye".utf8)))) == .replyToClose(code: code))
            #expect(machine.receive(frame(.text, "late")) == .ignore)
        }
    }

    @Test func anEmptyCloseIsAnsweredWith1000() {
        var machine = assembler()
        #expect(machine.receive(frame(.connectionClose, [])) == .replyToClose(code: 1000))
    }

    @Test func invalidCloseCodesAreAnsweredWith1002() {
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            var machine = assembler()
            #expect(machine.receive(frame(.connectionClose, closePayload(code))) == .replyToClose(code: 1002), "code \(code)")
        }
    }

    @Test func aOneByteCloseOrAReasonThatIsNotUTF8IsAnsweredWith1002() {
        var oneByte = assembler()
        #expect(oneByte.receive(frame(.connectionClose, [0x03])) == .replyToClose(code: 1002))
        var badReason = assembler()
        #expect(badReason.receive(frame(.connectionClose, closePayload(1000, [0xCE, 0xBA, 0xE1]))) == .replyToClose(code: 1002))
    }

    @Test func aCloseInsideAFragmentedMessageDropsTheFragments() {
        var machine = assembler()
        #expect(machine.receive(frame(.text, "part", fin: false)) == .ignore)
        #expect(machine.receive(frame(.connectionClose, closePayload(1000))) == .replyToClose(code: 1000))
        #expect(machine.receive(frame(.continuation, "rest")) == .ignore)
    }
}
