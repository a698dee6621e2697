import DugnadCore
import DugnadProtocol
import NIOCore
import NIOEmbedded
import Testing

/// The router's flush window, on an embedded loop whose clock the test moves.
@Suite struct LoopRouterTests {
    /// A connection that records how many frames each flush sent.
    final class RecordingSink: FrameSink {
        let userID: String
        var needsFlush = false
        private var unflushed = 0
        private(set) var flushes: [Int] = []

        init(_ userID: String) { self.userID = userID }

        func enqueue(_ frame: ByteBuffer) { unflushed += 1 }
        func flush() {
            flushes.append(unflushed)
            unflushed = 0
        }
        func close(code: CloseCode, reason: String) {}
    }

    private func event(_ text: String) -> FanoutEvent {
        FanoutEvent(target: .channel("general", exceptUser: nil), frame: OutboundFrame.make(Array(text.utf8)))
    }

    @Test func deliveriesWithinTheWindowShareOneFlushAtItsEnd() throws {
        let loop = EmbeddedEventLoop()
        let router = LoopRouter(loop: loop, flushWindow: .milliseconds(5))
        let kari = RecordingSink("kari")
        let ola = RecordingSink("ola")
        router.subscribe(kari, to: "general")
        router.subscribe(ola, to: "general")

        // After a quiet spell the first delivery goes out at once.
        loop.advanceTime(by: .seconds(1))
        router.deliver([event("1")])
        #expect(kari.flushes == [1] && ola.flushes == [1])

        // Two more within the window wait for its end, then leave in one flush each.
        loop.advanceTime(by: .milliseconds(1))
        router.deliver([event("2")])
        loop.advanceTime(by: .milliseconds(1))
        router.deliver([event("3")])
        #expect(kari.flushes == [1] && ola.flushes == [1])
        loop.advanceTime(by: .milliseconds(2))
        #expect(kari.flushes == [1], "4 ms after the first flush the window is still open")
        loop.advanceTime(by: .milliseconds(1))
        #expect(kari.flushes == [1, 2] && ola.flushes == [1, 2])

        // Quiet for longer than the window: at once again.
        loop.advanceTime(by: .milliseconds(10))
        router.deliver([event("4")])
        #expect(kari.flushes == [1, 2, 1])
        try loop.syncShutdownGracefully()
    }

    @Test func aZeroWindowFlushesEveryDelivery() throws {
        let loop = EmbeddedEventLoop()
        let router = LoopRouter(loop: loop, flushWindow: .zero)
        let kari = RecordingSink("kari")
        router.subscribe(kari, to: "general")
        router.deliver([event("1")])
        router.deliver([event("2"), event("3")])
        #expect(kari.flushes == [1, 2])
        try loop.syncShutdownGracefully()
    }
}
