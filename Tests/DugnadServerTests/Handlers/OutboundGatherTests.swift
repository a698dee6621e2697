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
        #expect(gather.take() == nil, "take leaves nothing behind")
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

    @Test func aLargeFrameIsNeverCopiedButHandedOnAsItIs() {
        var gather = OutboundGather()
        let large = ByteBuffer(repeating: UInt8(ascii: "x"), count: OutboundGather.copyBelowBytes)
        #expect(gather.add(ByteBuffer(string: "small")) == nil)
        // A large frame behind a small one: the small one goes first, the large one waits as it is.
        #expect(gather.add(large).map { String(buffer: $0) } == "small")
        // A small frame behind a large one: the large one goes, unjoined.
        let handedOn = gather.add(ByteBuffer(string: "after"))
        #expect(handedOn == large)
        let sameBytes = handedOn?.withUnsafeReadableBytes { out in large.withUnsafeReadableBytes { $0.baseAddress == out.baseAddress } }
        #expect(sameBytes == true, "the shared storage, not a copy")
        #expect(gather.take().map { String(buffer: $0) } == "after")
    }

    @Test func pastMaxBytesWhatWasGatheredIsHandedOnFirst() {
        var gather = OutboundGather()
        let frame = ByteBuffer(repeating: UInt8(ascii: "x"), count: 1_000)
        var joined = 0
        while joined + 1_000 <= OutboundGather.maxBytes {
            #expect(gather.add(frame) == nil)
            joined += 1_000
        }
        // One more would pass the bound: what was joined goes out alone, the new one waits.
        #expect(gather.add(frame)?.readableBytes == joined)
        #expect(gather.take()?.readableBytes == 1_000)
    }
}
