import Testing

@testable import DugnadProtocol

/// The directory's commands as frames: `channels` and `describe`, with every refusal
/// naming its field.
@Suite struct DirectoryCommandTests {
    private func decode(_ text: String) -> Result<ClientCommand, ProtocolError> {
        CommandDecoder().decode(Array(text.utf8)).result
    }

    @Test func channelsDecodesWithDefaultsAndBounds() throws {
        #expect(try decode(#"{"type":"channels"}"#).get() == .channels(DirectoryQuery(text: nil, after: nil, limit: 50)))
        #expect(
            try decode(#"{"type":"channels","query":"Årsm","after":"aarsmote","limit":200}"#).get()
                == .channels(DirectoryQuery(text: "Årsm", after: "aarsmote", limit: 200)))
        #expect(try decode(#"{"type":"channels","query":""}"#).get() == .channels(DirectoryQuery()))
        let refusals: [(String, String)] = [
            (#"{"type":"channels","limit":0}"#, "'limit'"),
            (#"{"type":"channels","limit":201}"#, "'limit'"),
            (#"{"type":"channels","limit":"5"}"#, "'limit'"),
            (#"{"type":"channels","query":5}"#, "'query'"),
            (#"{"type":"channels","query":"a\tb"}"#, "'query'"),
            (#"{"type":"channels","after":"Big"}"#, "'after'"),
        ]
        for (frame, field) in refusals {
            guard case .failure(let error) = decode(frame) else {
                Issue.record("\(frame) was accepted")
                continue
            }
            #expect(error.code == .badRequest)
            #expect(error.message.contains(field), "\(frame): \(error.message)")
        }
        let long = #"{"type":"channels","query":""# + String(repeating: "ø", count: 101) + #""}"#
        #expect((try? decode(long).get()) == nil)
    }

    @Test func describeNeedsADescriptionOrNull() throws {
        #expect(
            try decode(#"{"type":"describe","channel":"kaffe","description":" Kaffe ☕ "}"#).get()
                == .describe(channel: "kaffe", description: "Kaffe ☕"))
        #expect(
            try decode(#"{"type":"describe","channel":"kaffe","description":null}"#).get()
                == .describe(channel: "kaffe", description: nil))
        #expect(
            try decode(#"{"type":"describe","channel":"kaffe","description":"   "}"#).get()
                == .describe(channel: "kaffe", description: nil))
        for frame in [
            #"{"type":"describe","channel":"kaffe"}"#,
            #"{"type":"describe","channel":"kaffe","description":1}"#,
            #"{"type":"describe","channel":"kaffe","description":""# + String(repeating: "x", count: 1_001) + #""}"#,
        ] {
            guard case .failure(let error) = decode(frame) else {
                Issue.record("\(frame.prefix(80)) was accepted")
                continue
            }
            #expect(error.code == .badRequest)
            #expect(error.message.contains("'description'"))
        }
    }
}
