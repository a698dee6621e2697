import NIOCore
import Testing

@testable import DugnadServer

/// What one connection is handed between two flushes becomes one write: the first frame
/// as it is (the event's shared buffer), later ones joined behind it, never one write over
/// `maxBytes` of joined frames.
@Suite struct OutboundGatherTests {
    @Test func aLoneFrameIsHandedOnAsItIsWithoutACopy() {
        var gather = OutboundGather()
        let shared = ByteBuffer(string: "one event for everyone")
        #expect(gather.add(shared) == nil)
        let taken = gather.take()
        #expect(taken == shared)
        let sameBytes = taken?.withUnsafeReadableBytes { out in shared.withUnsafeReadableBytes { $0.baseAddress == out.baseAddress } }
        #expect(sameBytes == true, "the recipient gets the shared storage, not a copy")
        #expect(gather.isEmpty)
    }

    @Test func framesAreJoinedInTheOrderTheyCameAndTheSharedOneIsLeftAlone() {
        var gather = OutboundGather()
        let first = ByteBuffer(string: "a")
        #expect(gather.add(first) == nil)
        #expect(gather.add(ByteBuffer(string: "bb")) == nil)
        #expect(gather.add(ByteBuffer(string: "ccc")) == nil)
        #expect(gather.take().map { String(buffer: $0) } == "abbccc")
        #expect(String(buffer: first) == "a", "the first frame's buffer, shared with other recipients, is unchanged")
        #expect(gather.take() == nil, "take leaves nothing behind")
    }

    @Test func pastMaxBytesWhatWasGatheredIsHandedOnFirst() {
        var gather = OutboundGather()
        let large = ByteBuffer(repeating: UInt8(ascii: "x"), count: OutboundGather.maxBytes - 10)
        #expect(gather.add(large) == nil)
        let handedOn = gather.add(ByteBuffer(string: String(repeating: "y", count: 20)))
        #expect(handedOn == large, "the two together would pass the bound: the first goes out alone")
        #expect(gather.take().map { String(buffer: $0) } == String(repeating: "y", count: 20))
        // Exactly at the bound they are still joined.
        #expect(gather.add(ByteBuffer(repeating: 1, count: OutboundGather.maxBytes - 1)) == nil)
        #expect(gather.add(ByteBuffer(repeating: 2, count: 1)) == nil)
        #expect(gather.take()?.readableBytes == OutboundGather.maxBytes)
    }
}
