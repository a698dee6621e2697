import Testing

@testable import DugnadProtocol

/// `edit` and `delete` as frames: the body's rules are a publish's, the id is required.
@Suite struct EditCommandTests {
    private func decode(_ text: String, limits: Limits = Limits()) -> Result<ClientCommand, ProtocolError> {
        CommandDecoder(limits: limits).decode(Array(text.utf8)).result
    }

    @Test func editAndDeleteDecode() throws {
        #expect(
            try decode(#"{"type":"edit","message_id":"m_1","body":"ny tekst"}"#).get()
                == .edit(messageID: "m_1", body: "ny tekst"))
        #expect(try decode(#"{"type":"delete","message_id":"m_1","body":"ignored"}"#).get() == .delete(messageID: "m_1"))
        #expect(ClientCommand.edit(messageID: "m", body: "b").typeName == "edit")
        #expect(ClientCommand.delete(messageID: "m").typeName == "delete")
    }

    @Test func badEditsAndDeletesAreRefusedNamingTheField() {
        let long = String(repeating: "x", count: 129)
        let refusals: [(String, ErrorCode, String)] = [
            (#"{"type":"edit","body":"x"}"#, .badRequest, "missing field 'message_id'"),
            (#"{"type":"edit","message_id":"","body":"x"}"#, .badRequest, "'message_id' must not be empty"),
            (#"{"type":"edit","message_id":"\#(long)","body":"x"}"#, .badRequest, "'message_id' is longer than 128 bytes"),
            (#"{"type":"edit","message_id":"m_1"}"#, .badRequest, "missing field 'body'"),
            (#"{"type":"edit","message_id":"m_1","body":""}"#, .badRequest, "'body' must not be empty"),
            (#"{"type":"edit","message_id":"m_1","body":"a\u0000b"}"#, .badRequest, "'body' must not contain U+0000"),
            (#"{"type":"edit","message_id":"m_1","body":"123456"}"#, .tooLarge, "'body' is larger than 5 bytes"),
            (#"{"type":"delete"}"#, .badRequest, "missing field 'message_id'"),
            (#"{"type":"delete","message_id":7}"#, .badRequest, "'message_id' must be a string"),
        ]
        for (frame, code, message) in refusals {
            guard case .failure(let error) = decode(frame, limits: Limits(maxBodyBytes: 5)) else {
                Issue.record("\(frame) was accepted")
                continue
            }
            #expect(error.code == code, "\(frame)")
            #expect(error.message == message, "\(frame)")
        }
    }
}
