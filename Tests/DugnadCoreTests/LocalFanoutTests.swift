import DugnadCore
import DugnadProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

/// The per-loop mailbox behind `LocalFanout`: what piles up while a loop is busy goes out
/// in one drain, once per connection, in order; router tasks keep their place among the
/// events; the backlog it reports is what publishes are slowed by. On an embedded loop,
/// which runs queued tasks only when the test says so: "busy" is the time between.
@Suite struct LocalFanoutTests {
    typealias RecordingSink = LoopRouterTests.RecordingSink

    private func message(_ text: String, in channel: String = "general") -> FanoutEvent {
        FanoutEvent(target: .channel(channel, exceptUser: nil), frame: ByteBuffer(string: text), isMessage: true)
    }

    private func subscribed(_ users: [String], on fanout: LocalFanout, loop: EmbeddedEventLoop, to channel: String = "general")
        -> [RecordingSink]
    {
        let router = fanout.router(for: loop)
        return users.map { user in
            let sink = RecordingSink(user)
            router.register(sink)
            router.subscribe(sink, to: channel)
            return sink
        }
    }

    @Test func whatPiledUpWhileTheLoopWasBusyGoesOutInOneDrainOnceFlushedPerConnection() {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let delivered = NIOLockedValueBox(0)
        let fanout = LocalFanout(group: loop) { deliveries, _ in delivered.withLockedValue { $0 += deliveries } }
        let sinks = subscribed(["kari", "ola"], on: fanout, loop: loop)
        // Three writer batches while the loop is busy.
        fanout.publish([message("1"), message("2")])
        fanout.publish([message("3")])
        fanout.publish([message("4"), message("5")])
        #expect(sinks.allSatisfy { $0.frames.isEmpty }, "nothing is written before the loop runs")
        loop.run()
        // One run for the same recipients across the three batches: one write and one
        // flush per connection, the messages in the order they were published.
        for sink in sinks {
            #expect(sink.frames == ["12345"])
            #expect(sink.flushes == [1])
        }
        #expect(delivered.withLockedValue { $0 } == 10, "each message counts as a delivery, joined or not")
    }

    /// What the writer asks before it lets an op wait for the end of the loop's pass: a
    /// task given to the loop now would run after the drain already queued.
    @Test func queuedWorkIsReportedUntilADrainTakesIt() {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let fanout = LocalFanout(group: loop)
        _ = subscribed(["kari"], on: fanout, loop: loop)
        #expect(!fanout.hasQueuedWork(on: loop))
        fanout.publish([message("a")])
        #expect(fanout.hasQueuedWork(on: loop))
        loop.run()
        #expect(!fanout.hasQueuedWork(on: loop))
        fanout.forEachRouter { _ in }
        #expect(fanout.hasQueuedWork(on: loop), "a router task is queued work too")
        loop.run()
        #expect(!fanout.hasQueuedWork(on: loop))
    }

    @Test func atLowLoadEachPublishIsDeliveredInItsOwnDrain() {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let fanout = LocalFanout(group: loop)
        let sinks = subscribed(["kari"], on: fanout, loop: loop)
        fanout.publish([message("a")])
        loop.run()
        fanout.publish([message("b")])
        loop.run()
        #expect(sinks[0].frames == ["a", "b"])
        #expect(sinks[0].flushes == [1, 1], "a drain after the mailbox emptied is scheduled again: no event waits")
    }

    @Test func orderIsKeptPerChannelAndRunsForOtherRecipientsStaySeparate() {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let fanout = LocalFanout(group: loop)
        let general = subscribed(["kari"], on: fanout, loop: loop)[0]
        let random = subscribed(["ola"], on: fanout, loop: loop, to: "random")[0]
        fanout.publish([message("g1"), message("r1", in: "random")])
        fanout.publish([message("g2"), message("g3")])
        fanout.publish([message("r2", in: "random")])
        loop.run()
        #expect(general.frames.joined() == "g1g2g3")
        #expect(random.frames.joined() == "r1r2")
        #expect(general.flushes.count == 1 && random.flushes.count == 1, "one flush per connection per drain")
    }

    @Test func aRouterTaskKeepsItsPlaceAmongTheEvents() {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let fanout = LocalFanout(group: loop)
        let kari = subscribed(["kari"], on: fanout, loop: loop)[0]
        // Published before Kari was removed: hers. Published after: not hers, even though
        // all three wait for the same drain.
        fanout.publish([message("before")])
        fanout.forEachRouter { router in
            for sink in router.sinks(ofUser: "kari") { router.unsubscribe(sink, from: "general") }
        }
        fanout.publish([message("after")])
        loop.run()
        #expect(kari.frames == ["before"])
    }

    @Test func theBacklogIsWhatWaitsAndHowLongAndADrainEmptiesIt() {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let fanout = LocalFanout(group: loop)
        _ = subscribed(["kari"], on: fanout, loop: loop)
        let empty = fanout.backlog()
        #expect(empty == LocalFanout.Backlog(bytes: 0, waitedMillis: 0))
        let posted = NIODeadline.now()
        fanout.publish([message("12345678")])
        let waiting = fanout.backlog(now: posted + .milliseconds(700))
        #expect(waiting.bytes == 8)
        #expect(waiting.waitedMillis >= 690 && waiting.waitedMillis <= 700)
        loop.run()
        #expect(fanout.backlog(now: posted + .seconds(5)) == LocalFanout.Backlog(bytes: 0, waitedMillis: 0))
    }

    @Test func aDrainPastItsBudgetGoesOnInANewPassKeepingOrderAndFlushingOncePerPass() {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        // Two deliveries a pass: every pass ends with a flush and goes on in a new task.
        let fanout = LocalFanout(group: loop, deliveriesPerPass: 2)
        let general = subscribed(["kari"], on: fanout, loop: loop)[0]
        let random = subscribed(["ola"], on: fanout, loop: loop, to: "random")[0]
        // Alternating channels: no run to join, six events of one delivery each.
        fanout.publish([message("g1"), message("r1", in: "random"), message("g2")])
        fanout.publish([message("r2", in: "random"), message("g3"), message("r3", in: "random")])
        #expect(fanout.backlog().deliveries == 6, "what waits, in deliveries, before the loop runs")
        loop.run()
        #expect(general.frames == ["g1", "g2", "g3"])
        #expect(random.frames == ["r1", "r2", "r3"])
        #expect(general.flushes == [1, 1, 1] && random.flushes == [1, 1, 1], "three passes, each flushed")
        #expect(fanout.backlog() == LocalFanout.Backlog(bytes: 0, waitedMillis: 0, deliveries: 0))
    }

    @Test func eventsPostedWhileADrainIsCutShortWaitBehindWhatItPutBack() {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let fanout = LocalFanout(group: loop, deliveriesPerPass: 1)
        let kari = subscribed(["kari"], on: fanout, loop: loop)[0]
        let ola = subscribed(["ola"], on: fanout, loop: loop, to: "random")[0]
        fanout.publish([message("a"), message("x", in: "random"), message("b")])
        // A router task (posted later) runs after the events before it, however many passes.
        fanout.forEachRouter { router in
            for sink in router.sinks(ofUser: "kari") { router.unsubscribe(sink, from: "general") }
        }
        fanout.publish([message("c")])
        loop.run()
        #expect(kari.frames == ["a", "b"])
        #expect(ola.frames == ["x"])
    }

    @Test func theBacklogCountsDeliveriesPerConnectionAndAcceptedPublishesUntilSettled() {
        let loop = EmbeddedEventLoop()
        defer { try? loop.syncShutdownGracefully() }
        let fanout = LocalFanout(group: loop)
        _ = subscribed(["kari", "ola", "per"], on: fanout, loop: loop)
        // A publish the writer still holds: three connections will get it.
        let expected = fanout.expectPublish(to: "general")
        #expect(expected == 3)
        #expect(fanout.expectPublish(to: "nobody-here") == 0)
        #expect(fanout.backlog().deliveries == 3)
        // Durable and posted: counted in the mailbox too until it is settled (never less).
        fanout.publish([message("1"), message("2", in: "random"), message("3")])
        #expect(fanout.backlog().deliveries == 3 + 6, "two events for three connections, one for none")
        fanout.settle(expected)
        #expect(fanout.backlog().deliveries == 6)
        loop.run()
        #expect(fanout.backlog().deliveries == 0)
    }

    @Test func publishesAreRefusedWhileTooManyDeliveriesWait() {
        let few = LocalFanout.Backlog(bytes: 1_000, waitedMillis: 10, deliveries: 100)
        #expect(Hub.backPressure(for: few, maxLagMillis: 500, maxBytes: 1 << 20, maxDeliveries: 250_000) == nil)
        let many = LocalFanout.Backlog(bytes: 1_000, waitedMillis: 10, deliveries: 300_000)
        let refusal = Hub.backPressure(for: many, maxLagMillis: 500, maxBytes: 1 << 20, maxDeliveries: 250_000)
        #expect(refusal?.code == .rateLimited)
        #expect(refusal?.retryAfterMs == 50)
        #expect(Hub.backPressure(for: many, maxLagMillis: 500, maxBytes: 1 << 20, maxDeliveries: 0) == nil, "0: no bound on deliveries")
    }

    @Test func publishesAreRefusedWithARetryOnlyWhileTheBacklogIsOverABound() {
        let within = LocalFanout.Backlog(bytes: 1_000, waitedMillis: 400)
        #expect(Hub.backPressure(for: within, maxLagMillis: 500, maxBytes: 1 << 20) == nil)
        let late = LocalFanout.Backlog(bytes: 1_000, waitedMillis: 800)
        let refusal = Hub.backPressure(for: late, maxLagMillis: 500, maxBytes: 1 << 20)
        #expect(refusal?.code == .rateLimited)
        #expect(refusal?.retryAfterMs == 800)
        let large = LocalFanout.Backlog(bytes: 2 << 20, waitedMillis: 3)
        #expect(Hub.backPressure(for: large, maxLagMillis: 500, maxBytes: 1 << 20)?.retryAfterMs == 50)
        let stuck = LocalFanout.Backlog(bytes: 0, waitedMillis: 60_000)
        #expect(Hub.backPressure(for: stuck, maxLagMillis: 500, maxBytes: 1 << 20)?.retryAfterMs == 5_000)
        #expect(Hub.backPressure(for: stuck, maxLagMillis: 0, maxBytes: 1 << 20) == nil, "0 turns it off")
    }
}
