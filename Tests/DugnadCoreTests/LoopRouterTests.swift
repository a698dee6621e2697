import DugnadCore
import DugnadProtocol
import NIOCore
import NIOEmbedded
import Testing

/// When the router flushes (with and without a window), on an embedded loop whose clock
/// the test moves.
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
        FanoutEvent(target: .channel("general", exceptUser: nil), frame: TextFrame.make(Array(text.utf8)))
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

    @Test func withoutAWindowDeliveriesQueuedBeforeTheFlushShareIt() throws {
        let loop = EmbeddedEventLoop()
        let router = LoopRouter(loop: loop, flushWindow: .zero)
        let kari = RecordingSink("kari")
        router.subscribe(kari, to: "general")
        // Three batches reach the loop before its queued flush task runs: one flush.
        router.deliver([event("1")])
        router.deliver([event("2"), event("3")])
        router.deliver([event("4")])
        #expect(kari.flushes.isEmpty, "the flush waits for its task")
        loop.run()
        #expect(kari.flushes == [4])
        // On an idle loop the next batch gets a flush task of its own.
        router.deliver([event("5")])
        loop.run()
        #expect(kari.flushes == [4, 1])
        loop.run()
        #expect(kari.flushes == [4, 1], "no flush without deliveries")
        try loop.syncShutdownGracefully()
    }

    /// The router's clock, moved by the test alone: time passes without the loop running
    /// its queued tasks, as it does on a loop busy with a long queue.
    final class ManualClock {
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    }

    /// A connection whose flush costs time on the manual clock.
    final class CostlySink: FrameSink {
        let userID = "kari"
        var needsFlush = false
        private var unflushed = 0
        private(set) var flushes: [Int] = []
        let clock: ManualClock
        let cost: TimeAmount

        init(clock: ManualClock, cost: TimeAmount) {
            self.clock = clock
            self.cost = cost
        }

        func enqueue(_ frame: ByteBuffer) { unflushed += 1 }
        func flush() {
            flushes.append(unflushed)
            unflushed = 0
            clock.now = clock.now + cost
        }
        func close(code: CloseCode, reason: String) {}
    }

    @Test func deliveriesRunningAheadOfTheFlushWaitAtMostFourTimesTheLastFlushsCost() throws {
        let loop = EmbeddedEventLoop()
        let clock = ManualClock()
        let router = LoopRouter(loop: loop, flushWindow: .zero, clock: { clock.now })
        let kari = CostlySink(clock: clock, cost: .milliseconds(10))
        router.subscribe(kari, to: "general")
        router.deliver([event("1")])
        loop.run()
        #expect(kari.flushes == [1], "this flush took 10 ms: deliveries may wait 40 ms")

        // Deliveries keep coming before the queued flush task gets its turn: within 40 ms
        // of the first they wait ...
        router.deliver([event("2")])
        clock.now = clock.now + .milliseconds(39)
        router.deliver([event("3")])
        #expect(kari.flushes == [1])
        // ... and the first delivery after that flushes them all at once.
        clock.now = clock.now + .milliseconds(1)
        router.deliver([event("4")])
        #expect(kari.flushes == [1, 3])
        // The queued task is still there for what comes next, and flushes only that.
        router.deliver([event("5")])
        #expect(kari.flushes == [1, 3])
        loop.run()
        #expect(kari.flushes == [1, 3, 1])
        try loop.syncShutdownGracefully()
    }

    @Test func theHoldIsBoundedBothWays() {
        #expect(LoopRouter.holdLimit(lastFlushCost: .zero) == .milliseconds(1))
        #expect(LoopRouter.holdLimit(lastFlushCost: .milliseconds(5)) == .milliseconds(20))
        #expect(LoopRouter.holdLimit(lastFlushCost: .seconds(2)) == .milliseconds(250))
    }

}
