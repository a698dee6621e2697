import DugnadCore
import NIOCore
import Testing

@Suite struct FanoutEventTests {
    private func event(_ text: String, _ target: FanoutEvent.Target, message: Bool = true) -> FanoutEvent {
        FanoutEvent(target: target, frame: ByteBuffer(string: text), isMessage: message)
    }

    @Test func consecutiveEventsForTheSameRecipientsBecomeOneBufferInOrder() {
        let general = FanoutEvent.Target.channel("general", exceptUser: nil)
        let random = FanoutEvent.Target.channel("random", exceptUser: nil)
        let events = [
            event("a", general), event("b", general), event("c", general),
            event("d", random),
            event("e", general), event("typing", general, message: false), event("f", general),
            event("g", .channel("general", exceptUser: "kari")),
        ]
        let joined = FanoutEvent.coalesced(events)
        #expect(joined.map { String(buffer: $0.frame) } == ["abc", "d", "e", "typing", "f", "g"])
        #expect(joined.map(\.count) == [3, 1, 1, 1, 1, 1])
        #expect(joined.map(\.target) == [general, random, general, general, general, .channel("general", exceptUser: "kari")])
        #expect(joined.map(\.isMessage) == [true, true, true, false, true, true])
        // Nothing lost or added: the bytes are the same, in the same order.
        #expect(joined.map { String(buffer: $0.frame) }.joined() == events.map { String(buffer: $0.frame) }.joined())
    }

    @Test func aRunIsSplitBeyondTheSizeCap() {
        let general = FanoutEvent.Target.channel("general", exceptUser: nil)
        let body = String(repeating: "x", count: 10_000)
        let events = (0..<20).map { _ in event(body, general) }
        let joined = FanoutEvent.coalesced(events)
        #expect(joined.allSatisfy { $0.frame.readableBytes <= FanoutEvent.maxCoalescedBytes })
        #expect(joined.map(\.count).reduce(0, +) == 20)
        #expect(joined.map(\.frame.readableBytes).reduce(0, +) == 200_000)
        #expect(joined.count == 4)  // 6 + 6 + 6 + 2 frames of 10,000 bytes under a 65,536-byte cap
    }
}
