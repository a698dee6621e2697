import DugnadCore
import NIOCore

/// One timer per event loop for every WebSocket connection on it: each tick, every
/// registered connection looks at its own deadlines (ping, authentication, token expiry).
///
/// A scheduled task per connection and deadline cost about 700 bytes of an idle
/// connection (the task, its promise and future, its slot in the loop's heap; measured
/// with heaptrack at 3,000 connections) and a heap insert and removal on every ping. Here a
/// connection costs one slot in an array, and a tick walks the array: a few microseconds
/// for 10,000 connections, four times a second. Deadlines are met within one tick.
///
/// Confined to its event loop (one per loop, made by `AppContext`, reached through
/// `AppContext.ticker(for:)`).
final class ConnectionTicker {
    /// What a connection does on a tick.
    protocol Member: AnyObject {
        /// Index in `members`, kept by the ticker (-1 when not registered).
        var tickerSlot: Int { get set }
        func tick(uptimeMillis: Int64, wallMillis: Int64)
    }

    /// Ticks every 250 ms: deadlines given in seconds are met within a quarter second.
    static let interval = TimeAmount.milliseconds(250)

    private let loop: any EventLoop
    private var members: [any Member] = []
    private var task: Scheduled<Void>?

    init(loop: any EventLoop) {
        self.loop = loop
    }

    var count: Int { members.count }

    func add(_ member: any Member) {
        loop.preconditionInEventLoop()
        guard member.tickerSlot < 0 else { return }
        member.tickerSlot = members.count
        members.append(member)
        if task == nil { scheduleTick() }
    }

    /// O(1): the last member takes the removed one's slot.
    func remove(_ member: any Member) {
        loop.preconditionInEventLoop()
        let slot = member.tickerSlot
        guard slot >= 0, slot < members.count, members[slot] === member else { return }
        member.tickerSlot = -1
        let last = members.removeLast()
        if slot < members.count {
            members[slot] = last
            last.tickerSlot = slot
        }
        if members.isEmpty {
            // No connections, no wake-ups.
            task?.cancel()
            task = nil
        }
    }

    private func scheduleTick() {
        task = loop.assumeIsolated().scheduleTask(in: Self.interval) { [self] in
            // A member added during the tick may have scheduled the next one already.
            task = nil
            tick()
            if task == nil, !members.isEmpty { scheduleTick() }
        }
    }

    /// Monotonic milliseconds, the clock of the members' uptime deadlines: the loop's clock,
    /// which on a server's loop is `NIODeadline.now()` and on a test's embedded loop is the
    /// virtual time the test advances (so timeouts and pings are tested without waiting).
    var uptimeMillis: Int64 {
        Int64(loop.now.uptimeNanoseconds / 1_000_000)
    }

    private func tick() {
        let uptime = uptimeMillis
        let wall = DugnadCore.WallClock.nowMillis()
        // A member may leave (or close another) during its tick: walk a snapshot, and skip
        // the ones that left.
        for member in members where member.tickerSlot >= 0 {
            member.tick(uptimeMillis: uptime, wallMillis: wall)
        }
    }
}

@available(*, unavailable)
extension ConnectionTicker: Sendable {}
