import DugnadCore
import DugnadProtocol
import Testing

/// How a body's `@id`s and `@channel` are read (`Mentions.parse`), and the edit window's rule.
@Suite struct MentionsTests {
    @Test func idsAreFoundInOrderOnceEach() {
        let mentions = Mentions.parse("@kari can you and @ola.nordmann look? Thanks @kari")
        #expect(mentions.ids == ["kari", "ola.nordmann"])
        #expect(!mentions.channel)
    }

    @Test func punctuationAfterAnIdIsNotPartOfIt() {
        #expect(Mentions.parse("Ask @kari.").ids == ["kari"])
        #expect(Mentions.parse("(@kari), @ola-, @per!").ids == ["kari", "ola", "per"])
        #expect(Mentions.parse("@kari_2 and @k+test").ids == ["kari_2", "k+test"])
    }

    @Test func anEmailAddressInRunningTextMentionsNobody() {
        #expect(Mentions.parse("write to ola@firma.no today").ids.isEmpty)
        #expect(Mentions.parse("@kari@firma.no").ids == ["kari@firma.no"], "an id may itself be an address")
    }

    @Test func aLoneAtSignOrOneBeforeOtherCharactersIsNoMention() {
        #expect(Mentions.parse("@ alone, @. and @ø").ids.isEmpty)
        #expect(Mentions.parse("").ids.isEmpty)
        #expect(Mentions.parse("@").ids.isEmpty)
    }

    @Test func atChannelIsTheChannelNotAUser() {
        let mentions = Mentions.parse("@channel lunch is here, @kari too")
        #expect(mentions.channel)
        #expect(mentions.ids == ["kari"])
        #expect(!Mentions.parse("@channels").channel, "only the whole word")
    }

    @Test func idsLongerThanAnIdMayBeAreNotMentions() {
        let long = String(repeating: "a", count: 129)
        #expect(Mentions.parse("@\(long)").ids.isEmpty)
        let longest = String(repeating: "a", count: 128)
        #expect(Mentions.parse("@\(longest)").ids == [longest])
    }

    @Test func atMostFiftyIdsAreKept() {
        let body = (1...60).map { "@u\($0)" }.joined(separator: " ")
        let mentions = Mentions.parse(body)
        #expect(mentions.ids.count == Mentions.maxIDs)
        #expect(mentions.ids.first == "u1")
        #expect(mentions.ids.last == "u50")
    }

    @Test func storedTextRoundTrips() {
        #expect(Mentions.storedText([]) == nil)
        #expect(Mentions.ids(storedText: nil).isEmpty)
        let ids = ["kari", "ola.nordmann", "k+test@firma.no"]
        #expect(Mentions.ids(storedText: Mentions.storedText(ids)) == ids)
    }

    // MARK: The edit window

    @Test func aMessageMayBeEditedWithinTheWindowAndNotAfter() {
        #expect(Hub.editRefusal(sentAt: 1_000, now: 1_000, windowMillis: 60_000) == nil)
        #expect(Hub.editRefusal(sentAt: 1_000, now: 61_000, windowMillis: 60_000) == nil)
        let late = Hub.editRefusal(sentAt: 1_000, now: 61_001, windowMillis: 60_000)
        #expect(late?.code == .forbidden)
        #expect(late?.message == "a message can be edited for 1 minute after it was sent")
        #expect(
            Hub.editRefusal(sentAt: 0, now: 100_000_000, windowMillis: 24 * 3_600_000)?.message
                == "a message can be edited for 24 hours after it was sent")
        #expect(Hub.editRefusal(sentAt: 1_000, now: 1_000, windowMillis: 0)?.message == "editing is turned off on this hub")
    }
}
