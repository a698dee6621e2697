import NIOCore
import NIOEmbedded
import Testing

@testable import DugnadServer

/// The per-loop ticker on an embedded loop (time advanced by hand): its clock is the loop's,
/// who is ticked, slots kept right on removal, no wake-ups once empty.
@Suite struct ConnectionTickerTests {
    final class Recorder: ConnectionTicker.Member {
        var tickerSlot = -1
        var ticks = 0
        var lastUptime: Int64?
        var onTick: (() -> Void)?

        func tick(uptimeMillis: Int64, wallMillis: Int64) {
            ticks += 1
            lastUptime = uptimeMillis
            onTick?()
        }
    }

    @Test func theDeadlineClockIsTheLoopsSoVirtualTimeMovesIt() throws {
        let loop = EmbeddedEventLoop()
        let ticker = ConnectionTicker(loop: loop)
        let member = Recorder()
        ticker.add(member)
        #expect(ticker.uptimeMillis == 0)
        loop.advanceTime(by: .seconds(90))
        #expect(member.lastUptime == 90_000, "a member sees the loop's time, not the process's")
        #expect(member.ticks == 360)
        ticker.remove(member)
        try loop.syncShutdownGracefully()
    }

    @Test func everyRegisteredMemberIsTickedOncePerIntervalAndRemovedOnesAreNot() throws {
        let loop = EmbeddedEventLoop()
        let ticker = ConnectionTicker(loop: loop)
        let members = (0..<4).map { _ in Recorder() }
        for member in members { ticker.add(member) }
        ticker.remove(members[1])
        #expect(members[1].tickerSlot == -1)
        // The last member took the removed one's slot.
        #expect(members[3].tickerSlot == 1)
        #expect(ticker.count == 3)
        loop.advanceTime(by: ConnectionTicker.interval)
        #expect(members.map(\.ticks) == [1, 0, 1, 1])
        loop.advanceTime(by: ConnectionTicker.interval * 2)
        #expect(members.map(\.ticks) == [3, 0, 3, 3])
        // Removing twice, or a member never added, changes nothing.
        ticker.remove(members[1])
        ticker.remove(Recorder())
        #expect(ticker.count == 3)
    }

    @Test func aMemberThatRemovesAnotherDuringItsTickStopsItsTicksAtOnce() throws {
        let loop = EmbeddedEventLoop()
        let ticker = ConnectionTicker(loop: loop)
        let first = Recorder()
        let second = Recorder()
        ticker.add(first)
        ticker.add(second)
        first.onTick = { ticker.remove(second) }
        loop.advanceTime(by: ConnectionTicker.interval)
        #expect(first.ticks == 1)
        #expect(second.ticks == 0)
        #expect(ticker.count == 1)
    }

    @Test func anEmptyTickerStopsTickingAndStartsAgainOnTheNextMember() throws {
        let loop = EmbeddedEventLoop()
        let ticker = ConnectionTicker(loop: loop)
        let member = Recorder()
        ticker.add(member)
        ticker.remove(member)
        loop.advanceTime(by: ConnectionTicker.interval * 4)
        #expect(member.ticks == 0)
        // Nothing left scheduled: advancing time runs no task.
        let again = Recorder()
        ticker.add(again)
        loop.advanceTime(by: ConnectionTicker.interval)
        #expect(again.ticks == 1)
        // Re-adding during a tick (the ticker went empty and back) keeps one tick chain.
        again.onTick = {
            ticker.remove(again)
            ticker.add(again)
        }
        loop.advanceTime(by: ConnectionTicker.interval)
        again.onTick = nil
        loop.advanceTime(by: ConnectionTicker.interval)
        #expect(again.ticks == 3)
    }
}
