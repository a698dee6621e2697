import DugnadCore
import Testing

@testable import DugnadPostgres

/// The per-channel sequencer: messages leave in seq order, each once; gaps wait a grace
/// period and are then read from storage; references are read at once; after a lost
/// connection every channel is read from where it stopped.
@Suite struct MessageSequencerTests {
    private let grace: UInt64 = 100

    private func event(_ seq: Int64, channel: String = "general") -> FanoutEvent {
        .message(stored(seq, channel: channel))
    }

    private func stored(_ seq: Int64, channel: String = "general") -> StoredMessage {
        StoredMessage(
            id: "m\(seq)", channel: channel, seq: seq, fromID: "u1", fromName: "U", body: "b\(seq)", metaJSON: nil,
            replyTo: nil, clientID: nil, ts: 1)
    }

    private func seqs(_ output: MessageSequencer.Output) -> [Int64] {
        output.deliver.compactMap { $0.position?.seq }
    }

    private func receive(_ sequencer: inout MessageSequencer, _ seq: Int64, now: UInt64, frame: Bool = true)
        -> MessageSequencer.Output
    {
        var output = MessageSequencer.Output()
        sequencer.receive(
            .init(channel: "general", seq: seq), event: frame ? event(seq) : nil, now: now, into: &output)
        return output
    }

    @Test func inOrderMessagesLeaveAtOnceAndDuplicatesAreDropped() {
        var sequencer = MessageSequencer(graceNanos: grace)
        #expect(seqs(receive(&sequencer, 1, now: 0)) == [1])
        #expect(seqs(receive(&sequencer, 2, now: 0)) == [2])
        #expect(seqs(receive(&sequencer, 2, now: 0)).isEmpty)
        #expect(seqs(receive(&sequencer, 1, now: 0)).isEmpty)
        #expect(sequencer.delivered("general") == 2)
    }

    @Test func aLateSeqClosesTheGapAndReleasesWhatWaited() {
        var sequencer = MessageSequencer(graceNanos: grace)
        _ = receive(&sequencer, 1, now: 0)
        let ahead = receive(&sequencer, 3, now: 10)
        #expect(seqs(ahead).isEmpty)
        #expect(ahead.fetches.isEmpty, "within the grace, the other node's notification may still come")
        #expect(seqs(receive(&sequencer, 2, now: 20)) == [2, 3])
    }

    @Test func aGapStillOpenAfterTheGraceIsReadFromStorage() {
        var sequencer = MessageSequencer(graceNanos: grace)
        _ = receive(&sequencer, 1, now: 0)
        _ = receive(&sequencer, 4, now: 10)
        var output = MessageSequencer.Output()
        sequencer.tick(now: 50, into: &output)
        #expect(output.fetches.isEmpty)
        sequencer.tick(now: 120, into: &output)
        let fetch = MessageSequencer.Fetch(channel: "general", after: 1, through: 4)
        #expect(output.fetches == [fetch])

        var filled = MessageSequencer.Output()
        sequencer.fetched(fetch, messages: [stored(2), stored(3), stored(4)], complete: true, now: 130, into: &filled)
        #expect(seqs(filled) == [2, 3, 4])
        #expect(seqs(receive(&sequencer, 3, now: 140)).isEmpty, "the late notification is a duplicate now")
    }

    @Test func aReferenceIsReadAtOnce() {
        var sequencer = MessageSequencer(graceNanos: grace)
        _ = receive(&sequencer, 1, now: 0)
        let output = receive(&sequencer, 2, now: 1, frame: false)
        #expect(output.fetches == [MessageSequencer.Fetch(channel: "general", after: 1, through: 2)])
    }

    @Test func aFailedReadIsRetriedAfterTheGrace() {
        var sequencer = MessageSequencer(graceNanos: grace)
        _ = receive(&sequencer, 1, now: 0)
        let fetch = receive(&sequencer, 2, now: 0, frame: false).fetches[0]
        var output = MessageSequencer.Output()
        sequencer.fetched(fetch, messages: nil, complete: false, now: 10, into: &output)
        sequencer.tick(now: 50, into: &output)
        #expect(output.fetches.isEmpty && output.deliver.isEmpty)
        sequencer.tick(now: 111, into: &output)
        #expect(output.fetches == [fetch])
    }

    @Test func aChannelSeenFirstMidwayWaitsForLowerSeqsThenStarts() {
        var sequencer = MessageSequencer(graceNanos: grace)
        #expect(seqs(receive(&sequencer, 8, now: 0)).isEmpty)
        #expect(seqs(receive(&sequencer, 7, now: 10)).isEmpty)
        var output = MessageSequencer.Output()
        sequencer.tick(now: 200, into: &output)
        #expect(seqs(output) == [7, 8])
        #expect(output.fetches.isEmpty)
    }

    @Test func aSubscriptionStartsAnUnseenChannelAtItsLastSeq() {
        var sequencer = MessageSequencer(graceNanos: grace)
        var output = MessageSequencer.Output()
        sequencer.subscribed(channel: "general", lastSeq: 5, now: 0, into: &output)
        #expect(output.deliver.isEmpty && output.fetches.isEmpty)
        #expect(seqs(receive(&sequencer, 6, now: 1)) == [6])
        var again = MessageSequencer.Output()
        sequencer.subscribed(channel: "general", lastSeq: 2, now: 2, into: &again)
        #expect(sequencer.delivered("general") == 6, "a known channel keeps its place")
    }

    @Test func catchUpReadsEveryDeliveredChannelUntilComplete() {
        var sequencer = MessageSequencer(graceNanos: grace)
        _ = receive(&sequencer, 1, now: 0)
        var other = MessageSequencer.Output()
        sequencer.receive(.init(channel: "random", seq: 1), event: event(1, channel: "random"), now: 0, into: &other)
        var output = MessageSequencer.Output()
        sequencer.catchUp(now: 10, into: &output)
        #expect(
            output.fetches == [
                MessageSequencer.Fetch(channel: "general", after: 1, through: Int64.max),
                MessageSequencer.Fetch(channel: "random", after: 1, through: Int64.max),
            ])
        var first = MessageSequencer.Output()
        sequencer.fetched(output.fetches[0], messages: [stored(2)], complete: false, now: 20, into: &first)
        #expect(seqs(first) == [2])
        #expect(first.fetches == [MessageSequencer.Fetch(channel: "general", after: 2, through: Int64.max)])
        var last = MessageSequencer.Output()
        sequencer.fetched(first.fetches[0], messages: [stored(3)], complete: true, now: 30, into: &last)
        #expect(seqs(last) == [3])
        #expect(last.fetches.isEmpty)
    }

    @Test func seqsStorageDoesNotHaveAreSkippedRatherThanAwaitedForEver() {
        var sequencer = MessageSequencer(graceNanos: grace)
        _ = receive(&sequencer, 1, now: 0)
        _ = receive(&sequencer, 4, now: 0)
        var output = MessageSequencer.Output()
        sequencer.tick(now: 200, into: &output)
        var filled = MessageSequencer.Output()
        sequencer.fetched(output.fetches[0], messages: [stored(2)], complete: true, now: 210, into: &filled)
        #expect(seqs(filled) == [2, 4])
    }
}
