import Testing

@testable import DugnadProtocol

/// `search` as a frame: its fields, defaults and bounds, and every refusal naming its field.
@Suite struct SearchCommandTests {
    private func decode(_ text: String) -> Result<ClientCommand, ProtocolError> {
        CommandDecoder().decode(Array(text.utf8)).result
    }

    @Test func searchDecodesWithDefaultsAndClampsTheLimit() throws {
        #expect(try decode(#"{"type":"search","query":"årsmøt"}"#).get() == .search(SearchRequest(text: "årsmøt", limit: 20)))
        #expect(
            try decode(#"{"type":"search","query":"kaffe","channel":"general","from":"kari","before":1764,"limit":5}"#).get()
                == .search(SearchRequest(text: "kaffe", channel: "general", fromID: "kari", before: 1764, limit: 5)))
        #expect(
            try decode(#"{"type":"search","query":"kaffe","limit":500}"#).get()
                == .search(SearchRequest(text: "kaffe", limit: 50)))
        // Operators are text to the decoder: the hub finds the words (or says there are none).
        #expect(
            try decode(#"{"type":"search","query":"\" NEAR( OR -*"}"#).get() == .search(SearchRequest(text: #"" NEAR( OR -*"#)))
    }

    @Test func badFieldsAreRefusedByName() {
        let refusals: [(String, String)] = [
            (#"{"type":"search"}"#, "'query'"),
            (#"{"type":"search","query":""}"#, "'query'"),
            (#"{"type":"search","query":5}"#, "'query'"),
            (#"{"type":"search","query":"a\nb"}"#, "'query'"),
            (#"{"type":"search","query":"a\u0000b"}"#, "'query'"),
            ("{\"type\":\"search\",\"query\":\"\(String(repeating: "å", count: 201))\"}", "'query'"),
            (#"{"type":"search","query":"x","channel":"Big"}"#, "'channel'"),
            (#"{"type":"search","query":"x","from":""}"#, "'from'"),
            (#"{"type":"search","query":"x","from":7}"#, "'from'"),
            (#"{"type":"search","query":"x","before":-1}"#, "'before'"),
            (#"{"type":"search","query":"x","before":"soon"}"#, "'before'"),
            (#"{"type":"search","query":"x","limit":0}"#, "'limit'"),
            (#"{"type":"search","query":"x","limit":1.5}"#, "'limit'"),
        ]
        for (frame, field) in refusals {
            guard case .failure(let error) = decode(frame) else {
                Issue.record("\(frame) was accepted")
                continue
            }
            #expect(error.code == .badRequest, "\(frame)")
            #expect(error.message.contains(field), "\(frame): \(error.message)")
        }
        #expect((try? decode("{\"type\":\"search\",\"query\":\"\(String(repeating: "å", count: 200))\"}").get()) != nil)
    }
}
