import Testing

@testable import DugnadCore

/// `PresencePacer` and `PresenceState.pendingAudience`: a presence flush waits until the
/// rate has paid for its audience, so a rush of joins to one large channel costs a
/// bounded number of deliveries a second. Virtual time: `now` is passed in.
@Suite struct PresencePacerTests {
    private let ms: UInt64 = 1_000_000

    /// `#expect` cannot call a mutating method itself.
    private func admit(_ pacer: inout PresencePacer, audience: Int, now: UInt64) -> Bool {
        pacer.admit(audience: audience, now: now)
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
