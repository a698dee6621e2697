import DugnadCore
import DugnadProtocol
import NIOCore
import NIOEmbedded
import Testing

@testable import DugnadServer

/// Fan-out with permessage-deflate, through the real `LocalFanout`, `LoopRouter` and
/// `DeflateFrameCompressor` on an embedded loop: an event is compressed once and every
/// deflate connection with the same window is handed the very same buffer; plain
/// connections, and every connection for a message under the threshold, get the plain one.
@Suite struct CompressedFanoutTests {
    /// A connection as the router sees it, keeping what it was handed.
    final class Sink: FrameSink {
        let userID: String
        let deflateWindowBits: Int?
        var needsFlush = false
        var frames: [ByteBuffer] = []

        init(_ userID: String, window: Int?) {
            self.userID = userID
            self.deflateWindowBits = window
        }

        func enqueue(_ frame: ByteBuffer) { frames.append(frame) }
        func flush() {}
        func close(code: CloseCode, reason: String) {}
    }

    private let longJSON = Array(
        #"{"type":"message","channel":"general","body":"\#(String(repeating: "Husk dugnaden på lørdag! ", count: 30))"}"#
            .utf8)

    private func storage(_ buffer: ByteBuffer) -> UnsafeRawPointer? {
        buffer.withUnsafeReadableBytes { UnsafeRawPointer($0.baseAddress) }
    }

    @Test func anEventIsCompressedOnceAndTheSameBufferServesEveryDeflateConnection() throws {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let fanout = LocalFanout(group: loop, compressor: DeflateFrameCompressor(group: loop, thresholdBytes: 256))
        let sinks = [
            Sink("kari", window: 15), Sink("ola", window: 15), Sink("per", window: nil), Sink("siri", window: 10),
        ]
        let router = fanout.router(for: loop)
        for sink in sinks { router.subscribe(sink, to: "general") }
        let plain = OutboundFrame.make(longJSON)
        fanout.publish([FanoutEvent(target: .channel("general", exceptUser: nil), frame: plain, isMessage: true)])
        loop.run()

        let (kari, ola, per, siri) = (sinks[0].frames, sinks[1].frames, sinks[2].frames, sinks[3].frames)
        #expect(kari.count == 1 && ola.count == 1 && per.count == 1 && siri.count == 1)
        #expect(storage(kari[0]) == storage(ola[0]), "one compressed buffer, shared")
        #expect(storage(per[0]) == storage(plain), "the plain connection gets the event's own buffer")
        #expect(storage(siri[0]) != storage(kari[0]), "another window, another compression")
        for buffer in [kari[0], siri[0]] {
            let frame = try #require(try ServerFrame.parse(buffer).first)
            #expect(frame.rsv1 && frame.opcode == 0x1 && frame.fin)
            #expect(frame.payload.count < longJSON.count / 3)
            #expect(try TestDeflate.inflate(frame.payload) == longJSON)
        }
    }

    @Test func aMessageUnderTheThresholdGoesPlainEvenToDeflateConnections() throws {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let fanout = LocalFanout(group: loop, compressor: DeflateFrameCompressor(group: loop, thresholdBytes: 256))
        let sink = Sink("kari", window: 15)
        fanout.router(for: loop).subscribe(sink, to: "general")
        let small = OutboundFrame.make(Array(#"{"type":"message","body":"ok"}"#.utf8))
        fanout.publish([FanoutEvent(target: .channel("general", exceptUser: nil), frame: small)])
        loop.run()
        #expect(sink.frames.count == 1)
        #expect(storage(sink.frames[0]) == storage(small))
    }

    @Test func aJoinedRunCompressesEachLargeMessageAndKeepsTheSmallOnesPlain() throws {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let fanout = LocalFanout(group: loop, compressor: DeflateFrameCompressor(group: loop, thresholdBytes: 256))
        let sink = Sink("kari", window: 15)
        fanout.router(for: loop).subscribe(sink, to: "general")
        let small = Array(#"{"type":"typing"}"#.utf8)
        let events = [small, longJSON, small, longJSON].map {
            FanoutEvent(target: .channel("general", exceptUser: nil), frame: OutboundFrame.make($0), isMessage: true)
        }
        fanout.publish(events)
        loop.run()
        let frames = try sink.frames.flatMap { try ServerFrame.parse($0) }
        #expect(frames.map(\.rsv1) == [false, true, false, true])
        #expect(frames[0].payload == small && frames[2].payload == small)
        #expect(try TestDeflate.inflate(frames[1].payload) == longJSON)
        #expect(try TestDeflate.inflate(frames[3].payload) == longJSON)
    }
}
