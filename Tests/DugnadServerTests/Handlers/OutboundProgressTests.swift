import Testing

@testable import DugnadServer

/// `OutboundProgress`: a peer that reads a backlog counts as answering; one that reads
/// nothing does not.
@Suite struct OutboundProgressTests {
    /// `#expect` cannot call a mutating method itself.
    private func tick(_ progress: inout OutboundProgress, _ bufferedNow: Int) -> Bool {
        progress.tick(bufferedNow: bufferedNow)
    }

    @Test func aPeerDrainingABacklogCountsAsReading() {
        var progress = OutboundProgress()
        progress.noteEnqueued(3_000_000)
        // First tick: 2.9 MB still held by NIO (the kernel's buffer is full).
        #expect(!tick(&progress, 2_900_000))
        // By the next tick the kernel took 400 KB of it: the peer reads.
        #expect(tick(&progress, 2_500_000))
        // More was written meanwhile, and the kernel took some of the whole: still reading.
        progress.noteEnqueued(100_000)
        #expect(tick(&progress, 2_550_000))
    }

    @Test func aPeerThatReadsNothingOrHasNoBacklogDoesNotCount() {
        var progress = OutboundProgress()
        progress.noteEnqueued(2_000_000)
        #expect(!tick(&progress, 1_900_000))
        // Nothing left the buffer, new writes only piled up.
        progress.noteEnqueued(50_000)
        #expect(!tick(&progress, 1_950_000))
        #expect(!tick(&progress, 1_950_000))
        // No backlog: bytes the kernel took prove nothing about the peer (its buffer took them).
        var idle = OutboundProgress()
        idle.noteEnqueued(500)
        #expect(!tick(&idle, 0))
        idle.noteEnqueued(500)
        #expect(!tick(&idle, 0))
    }
}
