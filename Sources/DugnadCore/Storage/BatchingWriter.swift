import DequeModule
import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The single writer: every durable change goes through here, and everything that
/// arrives while a transaction commits is committed together in the next one (group
/// commit). Completions run in commit order on the writer's queue, after the commit,
/// so a publish is acknowledged and fanned out only once it is durable.
///
/// An op submitted on an event loop while the writer is idle wakes it at the end of that
/// loop's pass (a task the loop runs after the I/O it is handling), not at once: the
/// publishes and session rows read from every socket in one pass then commit together.
/// Woken at once, the writer's thread took the core from the loop after its first op: with
/// the hub on one core and 100 publishers waiting for their acks, 70 % of the batches held
/// five ops or fewer (22 on average; now 68). Two exceptions keep a long pass from
/// holding the writer idle: the loop has other work queued (`wakeAtEndOfPass` says no; its
/// tasks run in order, and a fan-out pass queued before the wake would run first), and
/// `deferredWakeLimit` ops wait (a pass that also writes to thousands of sockets can take
/// a tenth of a second under overload). Without them the groups overload's p99 lag went
/// from 1.0–1.3 s to 1.4–3.5 s.
///
/// Threading: `submit` may be called from any thread (state behind a lock); the store is
/// only ever called from the one serial dispatch queue, never from an event loop.
public final class BatchingWriter: Sendable {
    /// Called once per op with its result; events appended to `PostCommit` are handed to
    /// `afterBatch` together once every completion of the batch has run.
    public typealias Completion = @Sendable (Result<WriteOutcome, StoreError>, inout PostCommit) -> Void

    public struct Configuration: Sendable {
        /// Most ops in one transaction. Default 1,024: large enough to amortise the fsync,
        /// small enough that one batch commits in a few milliseconds.
        public var maxBatch: Int = 1_024
        /// Most ops waiting; beyond it `submit` refuses (the caller answers "busy").
        /// Default 100,000: about two seconds of the target publish rate.
        public var maxPending: Int = 100_000

        public init(maxBatch: Int = 1_024, maxPending: Int = 100_000) {
            self.maxBatch = maxBatch
            self.maxPending = maxPending
        }
    }

    /// Work that waits for a batch's commit: fan-out events.
    public struct PostCommit: Sendable {
        public var events: [FanoutEvent] = []
    }

    private struct Pending: Sendable {
        var op: WriteOp?
        var completion: Completion
    }

    private struct State: Sendable {
        /// A deque: a batch leaves from the front in O(batch), however long the queue is
        /// (an array's `removeFirst(n)` moves everything behind it: quadratic under overload).
        var queue = Deque<Pending>()
        var draining = false
        /// The loops that will wake the writer at the end of their pass.
        var wakesScheduled: Set<ObjectIdentifier> = []
        var closed = false
        var healthy = true
        /// A call of `Store.deferredWork` is scheduled for when the writer has been idle a while.
        var deferredWorkScheduled = false
    }

    private let store: any Store
    private let configuration: Configuration
    private let queue = DispatchQueue(label: "dugnad.writer")
    private let state = NIOLockedValueBox(State())
    private let afterBatch: @Sendable ([FanoutEvent]) -> Void
    private let onBatch: @Sendable (_ size: Int, _ failed: Bool) -> Void
    private let onRefused: @Sendable (WriteOp) -> Void
    private let wakeAtEndOfPass: @Sendable (any EventLoop) -> Bool
    private let logger: Logger

    /// `onRefused` hears of every op the writer refused (full or closed), whether or not the
    /// caller waits for it, so that nothing is dropped in silence. `wakeAtEndOfPass` says
    /// whether an op submitted on that loop may wait for the end of its pass (false: the
    /// loop has work queued that would run first).
    public init(
        store: any Store, configuration: Configuration = Configuration(), logger: Logger,
        onBatch: @escaping @Sendable (_ size: Int, _ failed: Bool) -> Void = { _, _ in },
        onRefused: @escaping @Sendable (WriteOp) -> Void = { _ in },
        wakeAtEndOfPass: @escaping @Sendable (any EventLoop) -> Bool = { _ in true },
        afterBatch: @escaping @Sendable ([FanoutEvent]) -> Void
    ) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.onBatch = onBatch
        self.onRefused = onRefused
        self.wakeAtEndOfPass = wakeAtEndOfPass
        self.afterBatch = afterBatch
    }

    /// False while the last transaction failed (disk full, read-only): `/readyz` reports it.
    public var isHealthy: Bool { state.withLockedValue { $0.healthy } }

    /// Queues `op`. Returns false, without calling `completion`, when the writer is full or closed.
    @discardableResult
    public func submit(_ op: WriteOp, completion: @escaping Completion) -> Bool {
        let queued = enqueue(Pending(op: op, completion: completion))
        if !queued { onRefused(op) }
        return queued
    }

    /// Queues `op` whose result nobody waits for (session bookkeeping).
    public func submit(_ op: WriteOp) {
        let logger = self.logger
        let queued = enqueue(
            Pending(op: op) { result, _ in
                if case .failure(let error) = result { logger.warning("background write failed: \(error)") }
            })
        if !queued { onRefused(op) }
    }

    /// Returns once everything queued before the call has committed (or failed).
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let queued = enqueue(Pending(op: nil) { _, _ in continuation.resume() }, force: true)
            if !queued { continuation.resume() }
        }
    }

    /// Refuses new work; what is queued still commits. Call `flush()` after it.
    public func close() {
        state.withLockedValue { $0.closed = true }
    }

    /// Ops that may wait for the end of a loop's pass; the next one wakes the writer at
    /// once, so that under overload no op waits out a long pass. The one value measured
    /// (the type's note): a pass that reads from 100 publishers commits in two batches.
    public static let deferredWakeLimit = 64

    private enum Wake {
        /// The writer is draining, or a wake is already due from this loop.
        case coming
        case now
        case endOfPass(any EventLoop)
    }

    private func enqueue(_ pending: Pending, force: Bool = false) -> Bool {
        let loop = MultiThreadedEventLoopGroup.currentEventLoop
        let wake: Wake? = state.withLockedValue { state in
            if state.closed && !force { return nil }
            if !force && state.queue.count >= configuration.maxPending { return nil }
            state.queue.append(pending)
            if state.draining { return .coming }
            // Asked only of an idle writer (under load it is draining): the answer takes the
            // loop's mailbox lock, which is never held while this one is taken.
            if let loop, state.queue.count <= Self.deferredWakeLimit, wakeAtEndOfPass(loop) {
                return state.wakesScheduled.insert(ObjectIdentifier(loop)).inserted ? .endOfPass(loop) : .coming
            }
            state.draining = true
            return .now
        }
        switch wake {
        case nil: return false
        case .coming: break
        case .now: queue.async { self.drain() }
        case .endOfPass(let loop): loop.execute { self.wake(scheduledBy: loop) }
        }
        return true
    }

    /// At the end of a loop's pass: starts a drain unless one runs (it takes what is queued).
    private func wake(scheduledBy loop: any EventLoop) {
        let start = state.withLockedValue { state in
            state.wakesScheduled.remove(ObjectIdentifier(loop))
            if state.draining || state.queue.isEmpty { return false }
            state.draining = true
            return true
        }
        if start { queue.async { self.drain() } }
    }

    private func drain() {
        while true {
            let batch: [Pending] = state.withLockedValue { state in
                let count = min(state.queue.count, configuration.maxBatch)
                let batch = Array(state.queue.prefix(count))
                state.queue.removeFirst(count)
                return batch
            }
            if !batch.isEmpty {
                commit(batch)
                // The store may have work that must not fall too far behind even while
                // writes wait; it answers quickly when there is none.
                if !state.withLockedValue({ $0.queue.isEmpty }) {
                    _ = deferredWork(writerIdle: false)
                    continue
                }
            }
            if deferredWork(writerIdle: true) { continue }
            let done = state.withLockedValue { state in
                if state.queue.isEmpty { state.draining = false }
                return !state.draining
            }
            if done { return }
        }
    }

    /// Gives the store its deferred work (see `Store.deferredWork`); true when it wants to
    /// be called again at once. A later call is scheduled on the writer's queue, at most
    /// one at a time. A failure is logged and left to the next batch: the work is the
    /// store's own, no write waits on it.
    private func deferredWork(writerIdle: Bool) -> Bool {
        let next: Duration?
        do {
            next = try store.deferredWork(writerIdle: writerIdle)
        } catch {
            logger.warning("deferred store work failed: \(error)")
            return false
        }
        guard writerIdle, let next else { return false }
        if next <= .zero { return true }
        let schedule = state.withLockedValue { state in
            defer { state.deferredWorkScheduled = true }
            return !state.deferredWorkScheduled
        }
        if schedule {
            let (seconds, attoseconds) = next.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            queue.asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { self.deferredWorkDue() }
        }
        return false
    }

    /// On the writer's queue, a while after the writer went idle: a drain does the work
    /// unless one is running already (it does the work itself when it runs dry).
    private func deferredWorkDue() {
        let start = state.withLockedValue { state in
            state.deferredWorkScheduled = false
            // Closed: the hub is stopping; the store catches up when it next starts.
            if state.draining || state.closed { return false }
            state.draining = true
            return true
        }
        if start { drain() }
    }

    private func commit(_ batch: [Pending]) {
        let ops = batch.compactMap(\.op)
        var results: [Result<WriteOutcome, StoreError>]
        var failed = false
        if ops.isEmpty {
            results = []
        } else {
            do {
                results = try store.write(ops)
            } catch {
                failed = true
                let storeError = (error as? StoreError) ?? StoreError(.unavailable, "storage failed: \(error)")
                logger.error("write batch of \(ops.count) failed: \(storeError)")
                results = Array(repeating: .failure(storeError), count: ops.count)
            }
        }
        // Only a batch that wrote something says anything about the storage's health.
        if !ops.isEmpty {
            state.withLockedValue { $0.healthy = !failed }
            onBatch(ops.count, failed)
        }
        var post = PostCommit()
        var index = 0
        var flushes: [Pending] = []
        for pending in batch {
            if pending.op == nil {
                flushes.append(pending)
            } else {
                pending.completion(results[index], &post)
                index += 1
            }
        }
        if !post.events.isEmpty { afterBatch(post.events) }
        // Flush waiters resume last, once the batch's events are handed on too.
        for pending in flushes { pending.completion(.success(.done), &post) }
    }
}
