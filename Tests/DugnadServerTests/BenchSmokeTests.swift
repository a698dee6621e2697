import DugnadServer
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import DugnadBench

/// The bench tool itself, against a real hub with lifted rate limits: every scenario runs
/// with tiny numbers and must count exactly. No timing is asserted: CI machines vary.
@Suite struct BenchSmokeTests {
    /// A hub whose per-connection limits do not get in the bench's way.
    static func liftedHub() async throws -> TestHub {
        try await TestHub.start { configuration in
            configuration.hub.publishRate = 1_000_000
            configuration.hub.publishBurst = 1_000_000
            configuration.hub.commandRate = 1_000_000
            configuration.hub.commandBurst = 1_000_000
        }
    }

    /// Tiny settings: no warm-up, a generous duration that `messages` ends early.
    static func configuration(_ scenario: BenchScenario, hub: TestHub) throws -> BenchConfiguration {
        var configuration = BenchConfiguration(scenario: scenario)
        try configuration.setURL("ws://127.0.0.1:\(hub.port)/ws")
        configuration.secret = Array(TestHub.secret.utf8)
        configuration.threads = 2
        configuration.warmup = 0
        configuration.duration = 30
        // Seconds without progress before the bench gives up on what is still in flight:
        // generous, since a loaded machine may pause the hub for seconds.
        configuration.drainTimeout = 30
        configuration.connectConcurrency = 8
        return configuration
    }

    @Test func fanoutDeliversEveryMessageToEverySubscriberExactlyOnce() async throws {
        let hub = try await Self.liftedHub()
        var configuration = try Self.configuration(.fanout, hub: hub)
        configuration.subscribers = 20
        configuration.publishers = 2
        configuration.rate = 400
        configuration.messages = 200
        let report = try await BenchRunner(configuration: configuration).run()
        await hub.stop()

        #expect(report.connections == 22)
        #expect(report.messagesSent == 200)
        #expect(report.messagesAcked == 200)
        #expect(report.publishRejected == 0)
        #expect(report.unanswered == 0)
        #expect(report.deliveriesExpected == 200 * 20)
        #expect(report.deliveries == report.deliveriesExpected)
        #expect(report.lost == 0)
        #expect(report.duplicates == 0)
        #expect(report.unexpectedCloses == 0)
        #expect(report.deliveryLatency.count == 200 * 20, "every delivery is measured when there is no warm-up")
        #expect(report.ackLatency.count == 200)
        #expect(report.serverVersion == DugnadVersion.current)
        #expect(report.isClean)
    }

    @Test func fanoutWithDeflateInflatesEveryCompressedDeliveryExactlyOnce() async throws {
        let hub = try await Self.liftedHub()
        var configuration = try Self.configuration(.fanout, hub: hub)
        configuration.subscribers = 10
        configuration.publishers = 1
        configuration.rate = 200
        configuration.messages = 100
        // Above the hub's 256-byte threshold once wrapped in the event's JSON: compressed.
        configuration.bodyBytes = 400
        configuration.deflate = true
        let report = try await BenchRunner(configuration: configuration).run()
        await hub.stop()

        #expect(report.deliveriesExpected == 100 * 10)
        #expect(report.deliveries == report.deliveriesExpected)
        #expect(report.lost == 0)
        #expect(report.duplicates == 0)
        #expect(report.isClean)
    }

    @Test func groupsCountsDeliveriesPerChannel() async throws {
        let hub = try await Self.liftedHub()
        var configuration = try Self.configuration(.groups, hub: hub)
        configuration.subscribers = 20
        configuration.channels = 4
        configuration.publishers = 2
        configuration.rate = 400
        configuration.messages = 200
        let report = try await BenchRunner(configuration: configuration).run()
        await hub.stop()

        // Each message goes to one channel of five subscribers.
        #expect(report.messagesAcked == 200)
        #expect(report.deliveriesExpected == 200 * 5)
        #expect(report.deliveries == 200 * 5)
        #expect(report.lost == 0)
        #expect(report.duplicates == 0)
        #expect(report.isClean)
    }

    @Test func publishGetsAnAckForEveryPublish() async throws {
        let hub = try await Self.liftedHub()
        var configuration = try Self.configuration(.publish, hub: hub)
        configuration.publishers = 10
        configuration.subscribers = 2
        configuration.messages = 200
        let report = try await BenchRunner(configuration: configuration).run()
        await hub.stop()

        #expect(configuration.effectiveInFlight == 1, "each publisher waits for its ack")
        #expect(report.messagesSent == 200)
        #expect(report.messagesAcked == report.messagesSent)
        #expect(report.ackLatency.count == 200)
        #expect(report.deliveries == 200 * 2)
        #expect(report.lost == 0)
        #expect(report.isClean)
    }

    @Test func idleHoldsEveryConnectionOpenAtTheHub() async throws {
        let hub = try await Self.liftedHub()
        var configuration = try Self.configuration(.idle, hub: hub)
        configuration.connections = 20
        configuration.channels = 2
        configuration.duration = 1
        configuration.serverPID = getpid()
        let seenWhileHolding = NIOLockedValueBox<[Int]>([])
        let report = try await BenchRunner(configuration: configuration).run { progress in
            if progress.phase == .holding {
                seenWhileHolding.withLockedValue { $0.append(hub.app.connectionCount) }
            }
        }
        await hub.stop()

        #expect(report.connections == 20)
        #expect(seenWhileHolding.withLockedValue { $0 }.first == 20)
        #expect(report.unexpectedCloses == 0)
        #expect(report.joinLatency.count == 20)
        #expect(report.server?.rssBeforeKB != nil, "this process stands in for the hub's pid")
        #expect(report.server?.bytesPerConnection != nil)
    }

    /// The morning rush: every connection joins two channels, each join is answered.
    @Test func idleWithTwoJoinsJoinsEveryConnectionToBothChannels() async throws {
        let hub = try await Self.liftedHub()
        var configuration = try Self.configuration(.idle, hub: hub)
        configuration.connections = 10
        configuration.channels = 2
        configuration.joinsPerConnection = 2
        configuration.duration = 0.5
        let channels = ["\(configuration.namePrefix)-idle-0", "\(configuration.namePrefix)-idle-1"]
        let presentWhileHolding = NIOLockedValueBox<[Int]?>(nil)
        let report = try await BenchRunner(configuration: configuration).run { progress in
            if progress.phase == .holding {
                let counts = channels.map { hub.app.hub.presence(channel: $0).count }
                presentWhileHolding.withLockedValue { $0 = $0 ?? counts }
            }
        }
        await hub.stop()

        #expect(report.connections == 10)
        #expect(report.joinLatency.count == 20)
        #expect(report.unexpectedCloses == 0)
        #expect(presentWhileHolding.withLockedValue { $0 } == [10, 10])
    }

    @Test func moreJoinsThanChannelsIsRefused() throws {
        var configuration = BenchConfiguration(scenario: .idle)
        configuration.secret = Array(repeating: 7, count: 32)
        configuration.channels = 1
        configuration.joinsPerConnection = 2
        #expect(throws: BenchError.self) { try configuration.validate() }
    }

    @Test func churnCompletesEveryConnectionItStarts() async throws {
        let hub = try await Self.liftedHub()
        var configuration = try Self.configuration(.churn, hub: hub)
        configuration.subscribers = 2
        configuration.churnRate = 20
        configuration.hold = 0.1
        configuration.duration = 1
        let report = try await BenchRunner(configuration: configuration).run()
        await hub.stop()

        #expect(report.churnStarted > 0)
        #expect(report.churnCompleted == report.churnStarted)
        #expect(report.churnFailed == 0)
        #expect(report.presenceDiffs > 0, "the watchers see the churning users come and go")
        #expect(report.unexpectedCloses == 0)
    }

    @Test func jsonHasOneObjectWithTheCounts() async throws {
        let hub = try await Self.liftedHub()
        var configuration = try Self.configuration(.fanout, hub: hub)
        configuration.subscribers = 3
        configuration.publishers = 1
        configuration.rate = 0
        configuration.messages = 10
        configuration.note = "smoke"
        let report = try await BenchRunner(configuration: configuration).run()
        await hub.stop()

        let object = try JSONSerialization.jsonObject(with: Data(report.jsonString().utf8)) as? [String: Any]
        let counts = object?["counts"] as? [String: Any]
        #expect(object?["scenario"] as? String == "fanout")
        #expect(object?["note"] as? String == "smoke")
        #expect(counts?["messages_acked"] as? Int == 10)
        #expect(counts?["deliveries"] as? Int == 30)
        #expect(counts?["lost"] as? Int == 0)
        #expect((object?["latency_ms"] as? [String: Any])?["delivery"] != nil)
        #expect(report.summary.contains("lost 0"))
    }

    @Test func aTokenTheHubRefusesIsAConnectionFailure() async throws {
        let hub = try await Self.liftedHub()
        var configuration = try Self.configuration(.fanout, hub: hub)
        configuration.secret = Array("another-secret-0123456789abcdef0123456789".utf8)
        configuration.subscribers = 2
        configuration.publishers = 1
        await #expect {
            _ = try await BenchRunner(configuration: configuration).run()
        } throws: { error in
            (error as? BenchError)?.isConnectionFailure == true && "\(error)".contains("4001")
        }
        await hub.stop()
    }

    // MARK: - The pure pieces

    @Test func deliveryTrackerTellsNewFromDuplicateAndStale() {
        var tracker = DeliveryTracker(base: 10)
        #expect(tracker.record(11) == .new)
        #expect(tracker.record(13) == .new)
        #expect(tracker.record(12) == .new)
        #expect(tracker.record(12) == .duplicate)
        #expect(tracker.record(13) == .duplicate)
        #expect(tracker.record(9) == .stale)
        #expect(tracker.received == 3)
        #expect(tracker.contiguous == 13)
    }

    @Test func scannerReadsTheFieldsTheHotPathNeeds() {
        let message =
            #"{"type":"message","channel":"c","seq":42,"id":"m_1","from":{"id":"u","name":"U"},"body":"\"meta\":{\"t\":1}","meta":{"t":123456789},"reply_to":null,"ts":1,"client_id":"x-0-1"}"#
        Array(message.utf8).withUnsafeBytes { bytes in
            #expect(EventScanner.kind(of: bytes) == .message)
            #expect(EventScanner.integer(after: EventScanner.seqKey, in: bytes) == 42)
            #expect(EventScanner.integer(afterLast: EventScanner.metaTimeKey, in: bytes) == 123_456_789)
        }
        let refused = #"{"type":"reply","ref":7,"ok":false,"error":{"code":"rate_limited","message":"slow down"}}"#
        Array(refused.utf8).withUnsafeBytes { bytes in
            #expect(EventScanner.kind(of: bytes) == .reply)
            #expect(EventScanner.integer(after: EventScanner.refKey, in: bytes) == 7)
            #expect(EventScanner.ok(in: bytes) == false)
            #expect(EventScanner.string(after: EventScanner.codeKey, in: bytes) == "rate_limited")
        }
    }

    @Test func framesRoundTripThroughTheWriterAndTheParser() throws {
        var writer = ClientFrameWriter()
        let payload = Array(repeating: UInt8(ascii: "a"), count: 70_000)
        var buffer = writer.frame(opcode: WebSocketFrameParser.text, bytes: payload, allocator: ByteBufferAllocator())
        var partial = buffer.getSlice(at: buffer.readerIndex, length: 100)!
        #expect(try WebSocketFrameParser().next(from: &partial) == nil, "an incomplete frame waits for more bytes")
        let frame = try #require(try WebSocketFrameParser().next(from: &buffer))
        #expect(frame.opcode == WebSocketFrameParser.text)
        #expect(frame.fin)
        #expect(Array(frame.payload.readableBytesView) == payload, "the parser unmasks what the writer masked")
        #expect(buffer.readableBytes == 0)
    }

    @Test func openLoopScheduleCatchesUpInSteadyStepsAndCountsLateSends() {
        let second: UInt64 = 1_000_000_000
        var schedule = PublishSchedule(
            plan: PublishPlan(start: second, until: 10 * second, ratePerSecond: 100, inFlight: 1_000, quota: 50))
        #expect(schedule.due(now: second, outstanding: 0) == 1)
        schedule.noteSent(now: second)
        // Two seconds behind: 100 ms worth (10 messages) at a time, and the quota is kept.
        #expect(schedule.due(now: 3 * second, outstanding: 0) == 10)
        for _ in 0..<10 { schedule.noteSent(now: 3 * second) }
        #expect(schedule.late == 10)
        #expect(schedule.due(now: 3 * second, outstanding: 995) == 5, "the in-flight window bounds it too")
        for _ in 0..<39 { schedule.noteSent(now: 4 * second) }
        #expect(schedule.isFinished(now: 4 * second))

        var closed = PublishSchedule(plan: PublishPlan(start: 0, until: second, ratePerSecond: 0, inFlight: 4, quota: 6))
        #expect(closed.due(now: 1, outstanding: 0) == 4)
        for _ in 0..<4 { closed.noteSent(now: 1) }
        #expect(closed.due(now: 2, outstanding: 3) == 1)
        closed.noteSent(now: 2)
        #expect(closed.due(now: 3, outstanding: 0) == 1, "the quota caps the window")
        #expect(closed.late == 0)
    }
    @Test func scannerSearchesAgreeWithANaiveSearch() {
        func naiveFirst(_ pattern: [UInt8], _ bytes: [UInt8], from: Int) -> Int? {
            guard pattern.count <= bytes.count else { return nil }
            var index = max(0, from)
            while index + pattern.count <= bytes.count {
                if Array(bytes[index..<index + pattern.count]) == pattern { return index }
                index += 1
            }
            return nil
        }
        func naiveLast(_ pattern: [UInt8], _ bytes: [UInt8]) -> Int? {
            guard pattern.count <= bytes.count else { return nil }
            var index = bytes.count - pattern.count
            while index >= 0 {
                if Array(bytes[index..<index + pattern.count]) == pattern { return index }
                index -= 1
            }
            return nil
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            // A small alphabet so that matches, near-misses and overlaps are common.
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 97...99, using: &generator) }
            let pattern = (0..<Int.random(in: 1...4, using: &generator)).map { _ in UInt8.random(in: 97...99, using: &generator) }
            let from = Int.random(in: 0...42, using: &generator)
            bytes.withUnsafeBytes { buffer in
                #expect(EventScanner.firstIndex(of: pattern, in: buffer, from: from) == naiveFirst(pattern, bytes, from: from))
                #expect(EventScanner.lastIndex(of: pattern, in: buffer) == naiveLast(pattern, bytes))
            }
        }
    }
}
