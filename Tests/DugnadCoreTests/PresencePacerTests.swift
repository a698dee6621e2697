import Testing

@testable import DugnadCore

/// `PresencePacer` and `PresenceState.pendingAudience`: a presence flush waits until the
/// rate has paid for its audience, so a rush of joins to one large channel costs a
/// bounded number of deliveries a second. Virtual time: `now` is passed in.
@Suite struct PresencePacerTests {
    private let ms: UInt64 = 1_000_000

    /// `#expect` cannot call a mutating method itself.
    private func admit(_ pacer: inout PresencePacer, audience: Int, opened: Int = 0, now: UInt64) -> Bool {
        pacer.admit(audience: audience, opened: opened, now: now)
    }

    private func rushPacer() -> PresencePacer {
        PresencePacer(
            deliveriesPerSecond: 20_000, tickMillis: 100,
            rush: .init(openingsPerSecond: 200, deliveriesPerSecond: 2_000))
    }

    @Test func aSmallAudienceGoesOnEveryTick() {
        var pacer = PresencePacer(deliveriesPerSecond: 20_000, tickMillis: 100)
        #expect(admit(&pacer, audience: 50, now: 1_000 * ms))
        #expect(admit(&pacer, audience: 50, now: 1_100 * ms))
        // A tick that fires a little early still pays for 2,000 at 20,000/s (100 ms).
        #expect(admit(&pacer, audience: 2_000, now: 1_197 * ms))
    }

    @Test func aLargeAudienceWaitsUntilTheRateHasPaidForIt() {
        var pacer = PresencePacer(deliveriesPerSecond: 20_000, tickMillis: 100)
        #expect(admit(&pacer, audience: 10_000, now: 1_000 * ms))  // the first flush goes at once
        // 10,000 deliveries at 20,000/s owe 500 ms (less half a tick of slack).
        for tick in 1...4 {
            #expect(!admit(&pacer, audience: 10_000, now: (1_000 + UInt64(tick) * 100) * ms))
        }
        #expect(admit(&pacer, audience: 10_000, now: 1_500 * ms))
        #expect(pacer.lastFlushNanos == 1_500 * ms)
    }

    @Test func nothingPendingIsNeverAFlushAndDoesNotResetTheClock() {
        var pacer = PresencePacer(deliveriesPerSecond: 20_000, tickMillis: 100)
        #expect(admit(&pacer, audience: 10_000, now: 1_000 * ms))
        #expect(!admit(&pacer, audience: 0, now: 1_600 * ms))
        #expect(pacer.lastFlushNanos == 1_000 * ms)
        #expect(admit(&pacer, audience: 10_000, now: 1_700 * ms))
    }

    @Test func aSecondOfManyOpeningsSlowsFlushesToTheRushRate() {
        var pacer = rushPacer()
        #expect(!admit(&pacer, audience: 0, opened: 0, now: 1_000 * ms))
        // 1,000 connections opened in the first second: from here on it is a rush.
        #expect(admit(&pacer, audience: 10_000, opened: 1_000, now: 2_000 * ms))
        #expect(pacer.inRush)
        // 10,000 deliveries at 2,000/s owe 5 s; at the usual 20,000/s they would go at 2.5 s.
        #expect(!admit(&pacer, audience: 10_000, opened: 2_000, now: 3_000 * ms))
        #expect(!admit(&pacer, audience: 10_000, opened: 3_000, now: 4_000 * ms))
        #expect(!admit(&pacer, audience: 10_000, opened: 4_000, now: 6_000 * ms))
        #expect(admit(&pacer, audience: 10_000, opened: 4_500, now: 7_000 * ms))
    }

    @Test func theRushEndsAfterASecondOfFewOpeningsAndWhatWaitedGoesOut() {
        var pacer = rushPacer()
        #expect(!admit(&pacer, audience: 0, opened: 0, now: 1_000 * ms))
        #expect(admit(&pacer, audience: 10_000, opened: 1_000, now: 2_000 * ms))
        #expect(!admit(&pacer, audience: 10_000, opened: 1_500, now: 2_600 * ms))
        #expect(pacer.inRush)
        // 199 openings in the next second: under 200 a second, so no rush any more, and the
        // diffs that waited go at the usual rate (10,000 owe 500 ms; 1 s has passed).
        #expect(admit(&pacer, audience: 10_000, opened: 1_199, now: 3_000 * ms))
        #expect(!pacer.inRush)
        #expect(admit(&pacer, audience: 10_000, opened: 1_199, now: 3_500 * ms))
    }

    @Test func withoutARushTheUsualRateHolds() {
        var pacer = rushPacer()
        #expect(!admit(&pacer, audience: 0, opened: 0, now: 1_000 * ms))
        // 199 openings in a second are no rush: 10,000 deliveries owe the usual 500 ms.
        #expect(admit(&pacer, audience: 10_000, opened: 199, now: 2_000 * ms))
        #expect(!pacer.inRush)
        #expect(admit(&pacer, audience: 10_000, opened: 300, now: 2_500 * ms))
    }

    @Test func openingsAreCountedByPresence() {
        var state = PresenceState()
        state.connect(userID: "u1")
        state.connect(userID: "u1")
        state.disconnect(userID: "u1")
        state.connect(userID: "u2")
        #expect(state.connectionsOpened == 3)
    }

    @Test func theAudienceIsTheMembersOfEveryChannelThatChanged() {
        var state = PresenceState()
        for index in 0..<30 {
            state.join(channel: "alle", user: .init(id: "u\(index)", name: "U\(index)"))
        }
        state.join(channel: "team", user: .init(id: "u0", name: "U0"))
        #expect(state.pendingAudience == 31)
        _ = state.drainDiffs()
        #expect(state.pendingAudience == 0)
        // A join and a leave that cancel out leave no audience behind.
        state.join(channel: "team", user: .init(id: "u1", name: "U1"))
        state.leave(channel: "team", userID: "u1")
        #expect(state.pendingAudience == 0)
        state.leave(channel: "alle", userID: "u5")
        #expect(state.pendingAudience == 29)
    }
}
