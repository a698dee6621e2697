import Testing

@testable import DugnadProtocol

/// `direct` as a frame: 1 to 8 distinct user ids, each refusal naming what is wrong.
@Suite struct DirectCommandTests {
    private func decode(_ text: String) -> Result<ClientCommand, ProtocolError> {
        CommandDecoder().decode(Array(text.utf8)).result
    }

    @Test func directDecodesTheOthersInTheirOrder() throws {
        #expect(try decode(#"{"type":"direct","users":["kari"]}"#).get() == .direct(DirectRequest(users: ["kari"])))
        let eight = (1...8).map { "\"u\($0)\"" }.joined(separator: ",")
        #expect(
            try decode(#"{"type":"direct","users":[\#(eight)]}"#).get()
                == .direct(DirectRequest(users: (1...8).map { "u\($0)" })))
    }

    @Test func directRefusesWhatIsNotOneToEightDistinctIds() {
        let nine = (1...9).map { "\"u\($0)\"" }.joined(separator: ",")
        let long = String(repeating: "x", count: 129)
        let refusals: [(String, String)] = [
            (#"{"type":"direct"}"#, "missing field 'users'"),
            (#"{"type":"direct","users":null}"#, "missing field 'users'"),
            (#"{"type":"direct","users":"kari"}"#, "must be an array"),
            (#"{"type":"direct","users":[]}"#, "1 to 8"),
            (#"{"type":"direct","users":[\#(nine)]}"#, "1 to 8"),
            (#"{"type":"direct","users":["kari","kari"]}"#, "twice"),
            (#"{"type":"direct","users":[""]}"#, "non-empty"),
            (#"{"type":"direct","users":[5]}"#, "non-empty user ids"),
            (#"{"type":"direct","users":["\#(long)"]}"#, "longer than 128"),
            (#"{"type":"direct","users":["ka\u0000ri"]}"#, "U+0000"),
        ]
        for (frame, words) in refusals {
            guard case .failure(let error) = decode(frame) else {
                Issue.record("\(frame) was accepted")
                continue
            }
            #expect(error.code == .badRequest, "\(frame)")
            #expect(error.message.contains(words), "\(frame): \(error.message)")
        }
    }
}
