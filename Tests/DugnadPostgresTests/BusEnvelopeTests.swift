import DugnadCore
import Testing

@testable import DugnadPostgres

/// The text of a bus notification: every item survives the round trip, whatever its
/// fields hold, and anything malformed is refused rather than half-read.
@Suite struct BusEnvelopeTests {
    private let kari = PresenceState.Member(id: "u42", name: "Kari \"K\" 12:3")

    @Test func everyItemSurvivesTheRoundTrip() throws {
        let envelope = BusEnvelope(
            node: "n_a",
            items: [
                .message(channel: "general", seq: 42, json: Array(#"{"type":"message","body":"a:b 7:x"}"#.utf8)),
                .messageReference(channel: "general", seq: 43),
                .channelEvent(channel: "general", exceptUser: "u42", json: Array(#"{"type":"typing"}"#.utf8)),
                .channelEvent(channel: "general", exceptUser: nil, json: Array("{}".utf8)),
                .channelEvent(channel: "general", exceptUser: "", json: Array("{}".utf8)),
                .usersEvent(users: ["u1", "u:2", ""], json: Array("{\"æ\":\"ø\"}".utf8)),
                .presence(
                    counter: 7,
                    changes: [
                        PresenceState.Change(channel: "", user: kari, present: true),
                        PresenceState.Change(channel: "general", user: kari, present: false),
                    ]),
                .snapshot(
                    counter: 9,
                    PresenceState.Snapshot(channels: ["general": [kari], "empty": []], online: ["u42", "u7"])),
                .heartbeat(counter: 9),
                .snapshotRequest(node: nil),
                .snapshotRequest(node: "n_b"),
                .goodbye,
                .statsChanged(["a_1", "a_2"]),
                .spooled(id: 123_456_789),
            ])
        let decoded = try #require(BusEnvelope.decode(envelope.encoded()))
        #expect(decoded == envelope)
    }

    @Test func sizesAddUp() {
        let items: [BusItem] = [.heartbeat(counter: 1), .messageReference(channel: "x", seq: 2), .goodbye]
        let total = BusEnvelope.headerSize(node: "n_a") + items.map(BusEnvelope.size(of:)).reduce(0, +)
        #expect(BusEnvelope(node: "n_a", items: items).encoded().count == total)
    }

    @Test func malformedOrForeignPayloadsAreRefused() {
        #expect(BusEnvelope.decode([]) == nil)
        #expect(BusEnvelope.decode(Array("2:d23:n_a".utf8)) == nil, "another version")
        #expect(BusEnvelope.decode(Array("2:d13:n_a1:h".utf8)) == nil, "an item cut short")
        #expect(BusEnvelope.decode(Array("2:d13:n_a1:z".utf8)) == nil, "an unknown item")
        #expect(BusEnvelope.decode(Array("2:d13:n_a1:h99:1".utf8)) == nil, "a length beyond the end")
        #expect(BusEnvelope.decode(Array("2:d13:n_a".utf8)) == BusEnvelope(node: "n_a", items: []))
    }
}
