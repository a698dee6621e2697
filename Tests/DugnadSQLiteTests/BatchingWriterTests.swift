import Dispatch
import DugnadProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import Testing

@testable import DugnadCore
@testable import DugnadSQLite

/// `BatchingWriter` against a real `SQLiteStore` on a temporary file: ordering, group
/// commit, post-commit events, back-pressure, close and flush.
///
/// Several tests hold the writer's queue inside the first op's completion: while it is
/// held, every submit queues up, so what forms the next batch is deterministic.
@Suite struct BatchingWriterTests {
    // MARK: Fixture

    /// What the writer reported, recorded from its queue and read by the test.
    private struct Log: Sendable {
        var completions: [String] = []
        var results: [String: Result<WriteOutcome, StoreError>] = [:]
        var batchSizes: [Int] = []
        var failedBatches = 0
        var afterBatches: [[FanoutEvent.Target]] = []
    }

    private final class Fixture: Sendable {
        let directory: URL
        let store: SQLiteStore
        let writer: BatchingWriter
        let log: NIOLockedValueBox<Log>

        init(configuration: BatchingWriter.Configuration = .init(), readOnly: Bool = false, wakeAtEndOfPass: Bool = true)
            throws
        {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "dugnad-writer-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let path = directory.appendingPathComponent("hub.sqlite").path
            let setup = try SQLiteStore(path: path)
            try setup.prepare()
            let created = try setup.write([.createChannel(name: "general", kind: .public, title: "General", createdAt: 1)])
            guard case .success(.channel(_, created: true))? = created.first else {
                throw StoreError(.conflict, "could not create the test channel: \(created)")
            }
            store = readOnly ? try SQLiteStore(path: path, readOnly: true) : setup
            let log = NIOLockedValueBox(Log())
            self.log = log
            var logger = Logger(label: "dugnad-writer-test")
            logger.logLevel = .critical
            writer = BatchingWriter(
                store: store, configuration: configuration, logger: logger,
                onBatch: { size, failed in
                    log.withLockedValue { log in
                        log.batchSizes.append(size)
                        if failed { log.failedBatches += 1 }
                    }
                },
                wakeAtEndOfPass: { _ in wakeAtEndOfPass },
                afterBatch: { events in
                    log.withLockedValue { $0.afterBatches.append(events.map(\.target)) }
                })
        }

        deinit {
            try? FileManager.default.removeItem(at: directory)
        }

        /// Batch sizes without the empty ones that carry only a flush.
        var opBatchSizes: [Int] { log.withLockedValue { $0.batchSizes.filter { $0 > 0 } } }
        var completions: [String] { log.withLockedValue { $0.completions } }

        /// Submits a publish named `id`; its completion records the result and, when asked,
        /// appends an event targeted at `id` for `afterBatch`.
        @discardableResult
        func publish(_ id: String, channel: String = "general", emitEvent: Bool = false) -> Bool {
            let log = self.log
            return writer.submit(.publish(Self.message(id, channel: channel))) { result, post in
                log.withLockedValue { log in
                    log.completions.append(id)
                    log.results[id] = result
                }
                if emitEvent { post.events.append(FanoutEvent(target: .users([id]), frame: OutboundFrame.make([]))) }
            }
        }

        /// Submits `id` and returns once its completion runs; the completion then holds the
        /// writer's queue until the returned gate is opened.
        func publishAndHold(_ id: String, emitEvent: Bool = false) async -> DispatchSemaphore {
            let gate = DispatchSemaphore(value: 0)
            let log = self.log
            await withCheckedContinuation { (entered: CheckedContinuation<Void, Never>) in
                let queued = writer.submit(.publish(Self.message(id, channel: "general"))) { result, post in
                    log.withLockedValue { log in
                        log.completions.append(id)
                        log.results[id] = result
                    }
                    if emitEvent { post.events.append(FanoutEvent(target: .users([id]), frame: OutboundFrame.make([]))) }
                    entered.resume()
                    // Bounded only so that a failing test cannot hang the run: opened by the
                    // test. 30 s was once too short on a loaded machine, where resuming the
                    // test's task took longer than that and the gate opened by itself.
                    _ = gate.wait(timeout: .now() + 600)
                }
                if !queued {
                    Issue.record("the writer refused the holding op")
                    entered.resume()
                }
            }
            return gate
        }

        /// Submits `id` and returns once its completion has run.
        func publishAndWait(_ id: String) async {
            let log = self.log
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let queued = writer.submit(.publish(Self.message(id, channel: "general"))) { result, _ in
                    log.withLockedValue { log in
                        log.completions.append(id)
                        log.results[id] = result
                    }
                    done.resume()
                }
                if !queued {
                    Issue.record("the writer refused \(id)")
                    done.resume()
                }
            }
        }

        func result(_ id: String) -> Result<WriteOutcome, StoreError>? {
            log.withLockedValue { $0.results[id] }
        }

        static func message(_ id: String, channel: String) -> NewMessage {
            NewMessage(
                id: id, channel: channel, fromID: "u1", fromName: "U1", body: "body of \(id)", metaJSON: nil,
                replyTo: nil, clientID: nil, ts: 1_764_411_223_123)
        }
    }

    private static func seq(_ result: Result<WriteOutcome, StoreError>?) -> Int64? {
        guard case .success(.message(let message, duplicate: false))? = result else { return nil }
        return message.seq
    }

    // MARK: Order

    @Test func completionsRunInSubmitOrder() async throws {
        let fixture = try Fixture()
        let ids = (0..<300).map { "m\($0)" }
        for id in ids { #expect(fixture.publish(id)) }
        await fixture.writer.flush()

        #expect(fixture.completions == ids)
        #expect(ids.map { Self.seq(fixture.result($0)) } == (1...300).map { Int64?($0) })
        #expect(try fixture.store.channel(named: "general")?.lastSeq == 300)
    }

    @Test func eachCompletionGetsItsOwnOpsResult() async throws {
        let fixture = try Fixture()
        let gate = await fixture.publishAndHold("first")
        fixture.publish("a")
        fixture.publish("lost", channel: "no-such-channel")
        fixture.publish("b")
        gate.signal()
        await fixture.writer.flush()

        #expect(fixture.opBatchSizes == [1, 3])
        #expect(Self.seq(fixture.result("a")) == 2)
        #expect(fixture.result("lost")?.storeErrorKind == .notFound)
        #expect(Self.seq(fixture.result("b")) == 3)
    }

    // MARK: Group commit

    @Test func opsSubmittedWhileABatchCommitsFormTheNextBatch() async throws {
        let fixture = try Fixture()
        let gate = await fixture.publishAndHold("first")
        let refused = NIOLockedValueBox(0)
        DispatchQueue.concurrentPerform(iterations: 499) { index in
            if !fixture.publish("c\(index)") { refused.withLockedValue { $0 += 1 } }
        }
        #expect(refused.withLockedValue { $0 } == 0)
        gate.signal()
        await fixture.writer.flush()

        #expect(fixture.opBatchSizes == [1, 499])
        #expect(fixture.completions.count == 500)
        #expect(try fixture.store.channel(named: "general")?.lastSeq == 500)
    }

    @Test func concurrentPublishesAreGroupedIntoFewerBatches() async throws {
        let fixture = try Fixture()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<500 {
                group.addTask { fixture.publish("p\(index)") }
            }
        }
        await fixture.writer.flush()

        let sizes = fixture.opBatchSizes
        #expect(sizes.reduce(0, +) == 500)
        #expect(sizes.count < 500, "every op committed alone: \(sizes.count) batches")
        let completions = fixture.completions
        #expect(completions.count == 500)
        #expect(Set(completions).count == 500)
        #expect(completions.allSatisfy { Self.seq(fixture.result($0)) != nil })
        #expect(completions.map { Self.seq(fixture.result($0)) } == (1...500).map { Int64?($0) })
    }

    /// What one pass of an event loop submits reaches an idle writer together, at the end
    /// of the pass: the publishes read from many sockets in one pass commit as one batch.
    /// (The pauses between the submits gave a writer woken at once the time to commit the
    /// first alone; the writer woken at the pass's end cannot, whatever the timing.)
    @Test func opsSubmittedInOneLoopPassCommitTogetherAtItsEnd() async throws {
        let fixture = try Fixture()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let log = fixture.log
        let ids = (0..<5).map { "pass\($0)" }
        // No flush: a flush from outside the loop would wake the writer itself and hide a
        // wake that never came.
        await withCheckedContinuation { (committed: CheckedContinuation<Void, Never>) in
            group.next().execute {
                for (index, id) in ids.enumerated() {
                    if index > 0 { usleep(20_000) }
                    let queued = fixture.writer.submit(.publish(Fixture.message(id, channel: "general"))) { result, _ in
                        let count = log.withLockedValue { log in
                            log.completions.append(id)
                            log.results[id] = result
                            return log.completions.count
                        }
                        if count == ids.count { committed.resume() }
                    }
                    if !queued {
                        Issue.record("the writer refused \(id)")
                        committed.resume()
                        return
                    }
                }
            }
        }

        try await group.shutdownGracefully()

        #expect(fixture.opBatchSizes == [5])
        #expect(fixture.completions == ids)
        #expect(ids.map { Self.seq(fixture.result($0)) } == (1...5).map { Int64?($0) })
    }

    /// Past `deferredWakeLimit` ops the writer starts at once, within the pass: the loop
    /// task below waits for the first op's commit before it ends, which only an early
    /// wake can give it.
    @Test func opsBeyondTheDeferredLimitWakeTheWriterWithinThePass() async throws {
        #expect(try await firstCommitsWithinThePass(Fixture(), submitting: BatchingWriter.deferredWakeLimit + 1))
    }

    /// A loop with work queued (a fan-out drain, in the hub) would run it before the wake:
    /// the writer then starts at once, even for one op.
    @Test func anOpFromALoopWithWorkQueuedWakesTheWriterAtOnce() async throws {
        #expect(try await firstCommitsWithinThePass(Fixture(wakeAtEndOfPass: false), submitting: 1))
        // The same single op from a loop without queued work waits for the pass's end.
        #expect(try await !firstCommitsWithinThePass(Fixture(), submitting: 1, waitingAtMost: .milliseconds(300)))
    }

    /// Submits `count` ops in one task of a loop and, still in that task, waits for the
    /// first one's commit; true when it came before the task ended.
    private func firstCommitsWithinThePass(
        _ fixture: Fixture, submitting count: Int, waitingAtMost wait: DispatchTimeInterval = .seconds(120)
    ) async throws -> Bool {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let firstCommitted = DispatchSemaphore(value: 0)
        let committedWithinPass = try await group.next().submit {
            for index in 0..<count {
                fixture.writer.submit(.publish(Fixture.message("early\(index)", channel: "general"))) { _, _ in
                    if index == 0 { firstCommitted.signal() }
                }
            }
            // Bounded so that a failing test cannot hang the run; the short bound only where
            // the commit must not come.
            return firstCommitted.wait(timeout: .now() + wait) == .success
        }.get()
        await fixture.writer.flush()
        try await group.shutdownGracefully()
        #expect(fixture.opBatchSizes.reduce(0, +) == count)
        return committedWithinPass
    }

    @Test func batchesAreCappedAtMaxBatch() async throws {
        let fixture = try Fixture(configuration: .init(maxBatch: 10))
        let gate = await fixture.publishAndHold("first")
        for index in 0..<25 { fixture.publish("m\(index)") }
        gate.signal()
        await fixture.writer.flush()

        #expect(fixture.opBatchSizes == [1, 10, 10, 5])
        #expect(fixture.completions.count == 26)
    }

    // MARK: Events after the commit

    @Test func eventsReachAfterBatchOncePerBatchInOrder() async throws {
        let fixture = try Fixture()
        let gate = await fixture.publishAndHold("first", emitEvent: true)
        for index in 0..<50 { fixture.publish("m\(index)", emitEvent: true) }
        gate.signal()
        await fixture.writer.flush()
        // The flush marker rode in the last batch, and its completion runs before that
        // batch's `afterBatch`; a second flush is a batch of its own, after it.
        await fixture.writer.flush()

        let afterBatches = fixture.log.withLockedValue { $0.afterBatches }
        #expect(
            afterBatches == [
                [.users(["first"])],
                (0..<50).map { FanoutEvent.Target.users(["m\($0)"]) },
            ])
    }

    @Test func batchWithoutEventsDoesNotCallAfterBatch() async throws {
        let fixture = try Fixture()
        fixture.publish("quiet")
        await fixture.writer.flush()
        await fixture.writer.flush()
        #expect(fixture.completions == ["quiet"])
        #expect(fixture.log.withLockedValue { $0.afterBatches }.isEmpty)
    }

    // MARK: Back-pressure, close, flush

    @Test func submitIsRefusedBeyondMaxPending() async throws {
        let fixture = try Fixture(configuration: .init(maxPending: 2))
        let gate = await fixture.publishAndHold("first")
        #expect(fixture.publish("a"))
        #expect(fixture.publish("b"))
        #expect(!fixture.publish("refused"))
        gate.signal()
        await fixture.writer.flush()

        #expect(fixture.completions == ["first", "a", "b"])
        #expect(fixture.result("refused") == nil)
        #expect(try fixture.store.channel(named: "general")?.lastSeq == 3)
        // Room again once the queue drained.
        #expect(fixture.publish("later"))
        await fixture.writer.flush()
        #expect(Self.seq(fixture.result("later")) == 4)
    }

    @Test func closeRefusesNewWorkButCommitsWhatIsQueued() async throws {
        let fixture = try Fixture()
        let gate = await fixture.publishAndHold("first")
        #expect(fixture.publish("queued"))
        fixture.writer.close()
        #expect(!fixture.publish("after-close"))
        gate.signal()
        await fixture.writer.flush()

        #expect(fixture.completions == ["first", "queued"])
        #expect(Self.seq(fixture.result("queued")) == 2)
        #expect(fixture.result("after-close") == nil)
        #expect(try fixture.store.message(id: "after-close") == nil)
    }

    @Test func flushWaitsForEverythingQueuedBeforeIt() async throws {
        let fixture = try Fixture()
        let gate = await fixture.publishAndHold("first")
        for index in 0..<100 { fixture.publish("m\(index)") }
        let flushed = Task {
            await fixture.writer.flush()
            return fixture.completions.count
        }
        // Held: the flush cannot have returned, whatever the timing.
        try await Task.sleep(for: .milliseconds(50))
        #expect(fixture.completions == ["first"])
        gate.signal()
        #expect(await flushed.value == 101)
    }

    @Test func flushOfAnIdleOrClosedWriterReturns() async throws {
        let fixture = try Fixture()
        await fixture.writer.flush()
        fixture.writer.close()
        await fixture.writer.flush()
        #expect(fixture.completions.isEmpty)
    }

    // MARK: Storage failure

    @Test func failedCommitFailsEveryOpAndMarksTheWriterUnhealthy() async throws {
        let fixture = try Fixture(readOnly: true)
        #expect(fixture.writer.isHealthy)
        let gate = await fixture.publishAndHold("first")
        fixture.publish("a")
        fixture.publish("b")
        gate.signal()
        await fixture.writer.flush()

        #expect(fixture.completions == ["first", "a", "b"])
        for id in ["first", "a", "b"] { #expect(fixture.result(id)?.storeErrorKind == .unavailable) }
        #expect(fixture.log.withLockedValue { $0.batchSizes.prefix(2) } == [1, 2])
        #expect(fixture.log.withLockedValue { $0.failedBatches } == 2)
    }

    @Test func writerIsUnhealthyWhileItsLastWriteFailed() async throws {
        let fixture = try Fixture(readOnly: true)
        await fixture.publishAndWait("a")
        #expect(fixture.result("a")?.storeErrorKind == .unavailable)
        #expect(!fixture.writer.isHealthy)
    }

    @Test func flushAfterAFailedWriteKeepsTheWriterUnhealthy() async throws {
        let fixture = try Fixture(readOnly: true)
        await fixture.publishAndWait("a")
        #expect(!fixture.writer.isHealthy)
        // The flush marker rides alone in a batch with no ops: nothing was written, so
        // nothing shows that storage recovered.
        await fixture.writer.flush()
        #expect(!fixture.writer.isHealthy)
    }
}

extension Result where Success == WriteOutcome, Failure == StoreError {
    /// The error kind of a failed write, nil for a success.
    fileprivate var storeErrorKind: StoreError.Kind? {
        guard case .failure(let error) = self else { return nil }
        return error.kind
    }
}
