import DugnadCore
import DugnadProtocol
import NIOCore
import NIOEmbedded
import Testing

/// The router's routing (who gets an event, how often it is flushed) and its flush window,
/// on an embedded loop whose clock the test moves.
@Suite struct LoopRouterTests {
    /// A connection that records the frames it was given and how many each flush sent.
    final class RecordingSink: FrameSink {
        let userID: String
        var needsFlush = false
        private var unflushed = 0
        private(set) var flushes: [Int] = []
        private(set) var frames: [String] = []

        init(_ userID: String) { self.userID = userID }

        func enqueue(_ frame: ByteBuffer) {
            unflushed += 1
            frames.append(String(buffer: frame))
        }
        func flush() {
            flushes.append(unflushed)
            unflushed = 0
        }
        func close(code: CloseCode, reason: String) {}
    }

    private func event(_ text: String) -> FanoutEvent {
        FanoutEvent(target: .channel("general", exceptUser: nil), frame: OutboundFrame.make(Array(text.utf8)))
    }

    private func event(_ text: String, to target: FanoutEvent.Target, isMessage: Bool = false) -> FanoutEvent {
        FanoutEvent(target: target, frame: ByteBuffer(string: text), isMessage: isMessage)
    }

    @Test func aChannelEventReachesItsSubscribersExceptTheNamedUserAndAUserEventEveryConnectionOfThatUser() {
        let router = LoopRouter()
        let kari = RecordingSink("kari")
        let kariPhone = RecordingSink("kari")
        let ola = RecordingSink("ola")
        let outsider = RecordingSink("per")
        for sink in [kari, kariPhone, ola, outsider] { router.register(sink) }
        for sink in [kari, kariPhone, ola] { router.subscribe(sink, to: "general") }

        let counted = router.deliver([
            event("typing", to: .channel("general", exceptUser: "kari")),
            event("message", to: .channel("general", exceptUser: nil), isMessage: true),
            event("for kari", to: .users(["kari", "nobody"])),
            event("elsewhere", to: .channel("random", exceptUser: nil)),
        ])
        #expect(kari.flushes.isEmpty, "delivering writes; only flushPending flushes")
        router.flushPending()
        #expect(kari.frames == ["message", "for kari"])
        #expect(kariPhone.frames == ["message", "for kari"])
        #expect(ola.frames == ["typing", "message"])
        #expect(outsider.frames.isEmpty)
        #expect(counted.deliveries == 1 + 3 + 2)
        #expect(counted.messages == 3)
        // One flush per touched connection for the whole batch, none for the untouched.
        #expect([kari, kariPhone, ola].map(\.flushes) == [[2], [2], [2]])
        #expect(outsider.flushes.isEmpty)
        #expect(router.sinks(ofUser: "kari").count == 2)
    }

    @Test func anUnsubscribedOrUnregisteredConnectionGetsNothingMore() {
        let router = LoopRouter()
        let kari = RecordingSink("kari")
        let ola = RecordingSink("ola")
        for sink in [kari, ola] {
            router.register(sink)
            router.subscribe(sink, to: "general")
        }
        router.unsubscribe(kari, from: "general")
        router.unregister(ola)
        router.deliver([event("m", to: .channel("general", exceptUser: nil)), event("u", to: .users(["kari", "ola"]))])
        #expect(kari.frames == ["u"])
        #expect(ola.frames == ["m"])
        #expect(router.sinks(ofUser: "ola").isEmpty)
        // Removing what is not there is harmless.
        router.unsubscribe(kari, from: "nowhere")
        router.unregister(RecordingSink("nobody"))
    }

    @Test func aCoalescedEventIsOneWriteButCountsEveryEventInIt() {
        let router = LoopRouter()
        let kari = RecordingSink("kari")
        router.subscribe(kari, to: "general")
        let run = FanoutEvent.coalesced(
            (1...3).map { event("m\($0)", to: .channel("general", exceptUser: nil), isMessage: true) })
        #expect(run.count == 1)
        let counted = router.deliver(run)
        #expect(kari.frames == ["m1m2m3"])
        #expect(counted.deliveries == 3 && counted.messages == 3)
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
        router.flushPending()
        #expect(kari.flushes == [1] && ola.flushes == [1])

        // Two more within the window wait for its end, then leave in one flush each.
        loop.advanceTime(by: .milliseconds(1))
        router.deliver([event("2")])
        router.flushPending()
        loop.advanceTime(by: .milliseconds(1))
        router.deliver([event("3")])
        router.flushPending()
        #expect(kari.flushes == [1] && ola.flushes == [1])
        loop.advanceTime(by: .milliseconds(2))
        #expect(kari.flushes == [1], "4 ms after the first flush the window is still open")
        loop.advanceTime(by: .milliseconds(1))
        #expect(kari.flushes == [1, 2] && ola.flushes == [1, 2])

        // Quiet for longer than the window: at once again.
        loop.advanceTime(by: .milliseconds(10))
        router.deliver([event("4")])
        router.flushPending()
        #expect(kari.flushes == [1, 2, 1])
        try loop.syncShutdownGracefully()
    }

    @Test func aZeroWindowFlushesEveryDelivery() throws {
        let loop = EmbeddedEventLoop()
        let router = LoopRouter(loop: loop, flushWindow: .zero)
        let kari = RecordingSink("kari")
        router.subscribe(kari, to: "general")
        router.deliver([event("1")])
        router.flushPending()
        router.deliver([event("2"), event("3")])
        router.flushPending()
        #expect(kari.flushes == [1, 2])
        try loop.syncShutdownGracefully()
    }
}
