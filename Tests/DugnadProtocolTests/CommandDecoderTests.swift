import Testing

@testable import DugnadProtocol

/// `CommandDecoder` against the wire contract, sections 4 and 5: what each command decodes
/// to, which `ref` travels with an error, and every validation error with its code and a
/// message that names the offending field.
@Suite struct CommandDecoderTests {
    private let decoder = CommandDecoder()

    // MARK: Helpers

    private func decode(_ text: String) -> CommandDecoder.Decoded {
        decoder.decode(Array(text.utf8))
    }

    /// Decodes a frame that must be accepted.
    private func command(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ClientCommand? {
        switch decode(text).result {
        case .success(let command):
            return command
        case .failure(let error):
            Issue.record("expected \(text.prefix(200)) to decode, got \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// Decodes a frame that must be refused.
    private func failure(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ProtocolError? {
        switch decode(text).result {
        case .success(let command):
            Issue.record("expected \(text.prefix(200)) to be refused, got \(command)", sourceLocation: sourceLocation)
            return nil
        case .failure(let error):
            return error
        }
    }

    /// Checks that a frame is refused with `code` and a message that mentions `field`.
    private func expectRefused(
        _ text: String, code: ErrorCode = .badRequest, naming field: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let error = failure(text, sourceLocation: sourceLocation) else { return }
        #expect(error.code == code, "\(text.prefix(200))", sourceLocation: sourceLocation)
        #expect(
            error.message.contains(field), "message '\(error.message)' should name '\(field)'",
            sourceLocation: sourceLocation)
    }

    private func publishFrame(channel: String = "general", body: String) -> String {
        #"{"type":"publish","channel":"\#(channel)","body":"\#(body)"}"#
    }

    private func announceFrame(
        title: String = "Fire drill", audience: String = #"{"all":true}"#, extra: String = ""
    ) -> String {
        #"{"type":"announce","title":"\#(title)","body":"At 10","audience":\#(audience)\#(extra)}"#
    }

    // MARK: Every command with its fields

    @Test func authDecodesWithAndWithoutToken() {
        #expect(command(#"{"type":"auth","token":"abc.def.ghi"}"#) == .auth(token: "abc.def.ghi"))
        #expect(command(#"{"type":"auth"}"#) == .auth(token: nil))
    }

    @Test func joinDecodesChannelSinceEpochAndHistory() {
        #expect(command(#"{"type":"join","channel":"general"}"#) == .join(JoinRequest(channel: "general")))
        #expect(
            command(#"{"type":"join","channel":"general","since":41,"epoch":"e_3k9"}"#)
                == .join(JoinRequest(channel: "general", since: 41, epoch: "e_3k9")))
        #expect(
            command(#"{"type":"join","channel":"general","history":20}"#)
                == .join(JoinRequest(channel: "general", history: 20)))
    }

    @Test func joinHistoryIsClampedTo200() {
        #expect(
            command(#"{"type":"join","channel":"general","history":1000}"#)
                == .join(JoinRequest(channel: "general", history: 200)))
    }

    @Test func leaveDecodesForgetDefaultingToFalse() {
        #expect(command(#"{"type":"leave","channel":"general"}"#) == .leave(channel: "general", forget: false))
        #expect(
            command(#"{"type":"leave","channel":"general","forget":true}"#) == .leave(channel: "general", forget: true))
    }

    @Test func markReadDecodesChannelAndSeq() {
        #expect(command(#"{"type":"mark_read","channel":"general","seq":12}"#) == .markRead(channel: "general", seq: 12))
        #expect(command(#"{"type":"mark_read","channel":"general","seq":0}"#) == .markRead(channel: "general", seq: 0))
    }

    @Test func integralDoubleIsAcceptedWhereAnIntegerIsExpected() {
        #expect(command(#"{"type":"mark_read","channel":"general","seq":5.0}"#) == .markRead(channel: "general", seq: 5))
        expectRefused(#"{"type":"mark_read","channel":"general","seq":5.5}"#, naming: "'seq'")
    }

    @Test func publishDecodesEveryField() {
        let frame =
            #"{"type":"publish","channel":"general","body":"Lunch at 12?","reply_to":"m_1","meta":{"b":1,"a":[true,null]},"client_id":"c-1"}"#
        #expect(
            command(frame)
                == .publish(
                    PublishRequest(
                        channel: "general", body: "Lunch at 12?", replyTo: "m_1", metaJSON: #"{"b":1,"a":[true,null]}"#,
                        clientID: "c-1")))
    }

    @Test func publishWithOnlyRequiredFieldsLeavesOptionalsNil() {
        #expect(command(publishFrame(body: "hi")) == .publish(PublishRequest(channel: "general", body: "hi")))
        #expect(
            command(#"{"type":"publish","channel":"general","body":"hi","meta":null}"#)
                == .publish(PublishRequest(channel: "general", body: "hi")))
    }

    @Test func historyDecodesBeforeAfterAndLimitWithDefault50() {
        #expect(
            command(#"{"type":"history","channel":"general"}"#)
                == .history(channel: "general", page: HistoryRequest(limit: 50)))
        #expect(
            command(#"{"type":"history","channel":"general","before":100,"limit":10}"#)
                == .history(channel: "general", page: HistoryRequest(before: 100, limit: 10)))
        #expect(
            command(#"{"type":"history","channel":"general","after":7}"#)
                == .history(channel: "general", page: HistoryRequest(after: 7, limit: 50)))
    }

    @Test func historyLimitIsClampedTo200() {
        #expect(
            command(#"{"type":"history","channel":"general","limit":5000}"#)
                == .history(channel: "general", page: HistoryRequest(limit: 200)))
        #expect(
            command(#"{"type":"history","channel":"general","limit":200}"#)
                == .history(channel: "general", page: HistoryRequest(limit: 200)))
    }

    @Test func historyRefusesBeforeAndAfterTogether() {
        let error = failure(#"{"type":"history","channel":"general","before":10,"after":2}"#)
        #expect(error?.code == .badRequest)
        #expect(error?.message.contains("'before'") == true)
        #expect(error?.message.contains("'after'") == true)
    }

    @Test func historyRefusesLimitBelowOne() {
        expectRefused(#"{"type":"history","channel":"general","limit":0}"#, naming: "'limit'")
    }

    @Test func presenceAndTypingDecodeTheirChannel() {
        #expect(command(#"{"type":"presence","channel":"general"}"#) == .presence(channel: "general"))
        #expect(command(#"{"type":"typing","channel":"general"}"#) == .typing(channel: "general"))
    }

    @Test func membersDecodesLimitWithDefault100AndAfter() {
        #expect(
            command(#"{"type":"members","channel":"general"}"#)
                == .members(channel: "general", limit: 100, afterUserID: nil))
        #expect(
            command(#"{"type":"members","channel":"general","limit":20,"after":"u7"}"#)
                == .members(channel: "general", limit: 20, afterUserID: "u7"))
    }

    @Test func membersLimitIsClampedTo500() {
        #expect(
            command(#"{"type":"members","channel":"general","limit":10000}"#)
                == .members(channel: "general", limit: 500, afterUserID: nil))
    }

    @Test func reactDecodesMessageEmojiAndRemove() {
        #expect(
            command(#"{"type":"react","message_id":"m_1","emoji":"👍"}"#)
                == .react(messageID: "m_1", emoji: "👍", remove: false))
        #expect(
            command(#"{"type":"react","message_id":"m_1","emoji":"👍","remove":true}"#)
                == .react(messageID: "m_1", emoji: "👍", remove: true))
    }

    @Test func announceDecodesEveryField() {
        let frame = announceFrame(
            audience: #"{"channels":["general","staff","general"]}"#,
            extra: #","priority":"urgent","require_ack":true,"client_id":"a-1""#)
        #expect(
            command(frame)
                == .announce(
                    AnnounceRequest(
                        title: "Fire drill", body: "At 10", audience: .channels(["general", "staff"]), priority: .urgent,
                        requireAck: true, clientID: "a-1")))
    }

    @Test func announceDefaultsToNormalPriorityWithoutAck() {
        #expect(
            command(announceFrame())
                == .announce(
                    AnnounceRequest(
                        title: "Fire drill", body: "At 10", audience: .all, priority: .normal, requireAck: false,
                        clientID: nil)))
    }

    @Test(arguments: Priority.allCases)
    func announceAcceptsEachPriority(_ priority: Priority) {
        guard case .announce(let request)? = command(announceFrame(extra: #","priority":"\#(priority.rawValue)""#)) else {
            return
        }
        #expect(request.priority == priority)
    }

    @Test func ackDecodesBothKindsAndDefaultsToRead() {
        #expect(
            command(#"{"type":"ack","announcement_id":"a_1","kind":"ack"}"#) == .ack(announcementID: "a_1", kind: .ack))
        #expect(
            command(#"{"type":"ack","announcement_id":"a_1","kind":"read"}"#) == .ack(announcementID: "a_1", kind: .read))
        #expect(command(#"{"type":"ack","announcement_id":"a_1"}"#) == .ack(announcementID: "a_1", kind: .read))
    }

    @Test func announcementStatsRemindRefreshAndPingDecode() {
        #expect(
            command(#"{"type":"announcement_stats","announcement_id":"a_1"}"#) == .announcementStats(announcementID: "a_1"))
        #expect(command(#"{"type":"remind","announcement_id":"a_1"}"#) == .remind(announcementID: "a_1"))
        #expect(command(#"{"type":"refresh","token":"t"}"#) == .refresh(token: "t"))
        #expect(command(#"{"type":"ping"}"#) == .ping)
    }

    @Test func typeNameRoundTripsTheWireType() {
        let frames = [
            #"{"type":"join","channel":"a"}"#, #"{"type":"mark_read","channel":"a","seq":1}"#,
            #"{"type":"announcement_stats","announcement_id":"x"}"#, #"{"type":"ping"}"#,
        ]
        #expect(frames.compactMap { command($0)?.typeName } == ["join", "mark_read", "announcement_stats", "ping"])
    }

    // MARK: ref

    @Test func numericRefIsKept() {
        #expect(decode(#"{"type":"ping","ref":7}"#).ref == .int(7))
        #expect(decode(#"{"type":"ping","ref":7.5}"#).ref == .double(7.5))
    }

    @Test func stringRefIsKept() {
        #expect(decode(#"{"type":"ping","ref":"r-1"}"#).ref == .string("r-1"))
    }

    @Test func absentOrNullRefIsNil() {
        #expect(decode(#"{"type":"ping"}"#).ref == nil)
        #expect(decode(#"{"type":"ping","ref":null}"#).ref == nil)
    }

    @Test func refTravelsWithAValidationError() {
        let decoded = decode(#"{"type":"publish","ref":"p-9","channel":"Bad Name","body":"x"}"#)
        #expect(decoded.ref == .string("p-9"))
        guard case .failure(let error) = decoded.result else {
            Issue.record("expected a failure, got \(decoded.result)")
            return
        }
        #expect(error.code == .badRequest)
    }

    @Test(arguments: [#"true"#, #"[1]"#, #"{"n":1}"#])
    func refOfAnotherTypeIsBadRequestWithoutRef(_ ref: String) {
        let decoded = decode(#"{"type":"ping","ref":\#(ref)}"#)
        #expect(decoded.ref == nil)
        guard case .failure(let error) = decoded.result else {
            Issue.record("expected a failure, got \(decoded.result)")
            return
        }
        #expect(error.code == .badRequest)
        #expect(error.message.contains("'ref'"))
    }

    @Test func overlongStringRefIsBadRequestWithoutRef() {
        let decoded = decode(#"{"type":"ping","ref":"\#(String(repeating: "r", count: 129))"}"#)
        #expect(decoded.ref == nil)
        guard case .failure(let error) = decoded.result else {
            Issue.record("expected a failure, got \(decoded.result)")
            return
        }
        #expect(error.code == .badRequest)
        #expect(error.message.contains("'ref'"))
    }

    // MARK: Frames that are not commands

    @Test func invalidJSONIsBadRequestWithoutRef() {
        let decoded = decode(#"{"type":"ping","ref":1"#)
        #expect(decoded.ref == nil)
        guard case .failure(let error) = decoded.result else {
            Issue.record("expected a failure, got \(decoded.result)")
            return
        }
        #expect(error.code == .badRequest)
        #expect(error.message.contains("JSON"))
    }

    @Test(arguments: [#"[{"type":"ping"}]"#, #""ping""#, "42", "null"])
    func nonObjectJSONIsBadRequestWithoutRef(_ text: String) {
        let decoded = decode(text)
        #expect(decoded.ref == nil)
        guard case .failure(let error) = decoded.result else {
            Issue.record("expected a failure, got \(decoded.result)")
            return
        }
        #expect(error.code == .badRequest)
        #expect(error.message.contains("object"))
    }

    @Test func missingTypeIsBadRequestNamingType() {
        expectRefused(#"{"ref":1,"channel":"general"}"#, naming: "'type'")
        #expect(decode(#"{"ref":1,"channel":"general"}"#).ref == .int(1))
    }

    @Test func nonStringTypeIsBadRequestNamingType() {
        expectRefused(#"{"type":5}"#, naming: "'type'")
    }

    @Test func unknownTypeIsBadRequestNamingIt() {
        expectRefused(#"{"type":"shout","ref":3}"#, naming: "shout")
        #expect(decode(#"{"type":"shout","ref":3}"#).ref == .int(3))
    }

    // MARK: Channel names

    @Test(arguments: [
        "general", "a", "0", "team-7", "a.b_c-d", "9lives", String(repeating: "a", count: 64),
        "x" + String(repeating: ".", count: 63),
    ])
    func validChannelNameIsAccepted(_ name: String) {
        #expect(command(#"{"type":"presence","channel":"\#(name)"}"#) == .presence(channel: name))
    }

    @Test(arguments: [
        "", "General", "genERAL", ".hidden", "-dash", "_under", "with space", "slash/name", "kött",
        String(repeating: "a", count: 65),
    ])
    func invalidChannelNameIsBadRequestNamingChannel(_ name: String) {
        expectRefused(#"{"type":"presence","channel":"\#(name)"}"#, naming: "'channel'")
    }

    @Test func missingOrNonStringChannelIsBadRequestNamingChannel() {
        expectRefused(#"{"type":"join"}"#, naming: "'channel'")
        expectRefused(#"{"type":"join","channel":42}"#, naming: "'channel'")
        expectRefused(#"{"type":"join","channel":"\#(String(repeating: "a", count: 300))"}"#, naming: "'channel'")
    }

    // MARK: Body

    @Test func bodyOfExactly16KiBIsAccepted() {
        let body = String(repeating: "a", count: 16_384)
        #expect(command(publishFrame(body: body)) == .publish(PublishRequest(channel: "general", body: body)))
    }

    @Test func bodyLimitCountsUTF8Bytes() {
        // 8,192 two-byte characters are exactly 16 KiB; one more byte is too large.
        let body = String(repeating: "é", count: 8_192)
        #expect(command(publishFrame(body: body)) == .publish(PublishRequest(channel: "general", body: body)))
        expectRefused(publishFrame(body: body + "a"), code: .tooLarge, naming: "'body'")
    }

    @Test func bodyOverSixteenKiBIsTooLarge() {
        expectRefused(publishFrame(body: String(repeating: "a", count: 16_385)), code: .tooLarge, naming: "'body'")
    }

    @Test func bodyLimitFollowsConfiguredLimits() {
        let small = CommandDecoder(limits: Limits(maxBodyBytes: 4))
        #expect((try? small.decode(Array(publishFrame(body: "abcd").utf8)).result.get()) != nil)
        guard case .failure(let error) = small.decode(Array(publishFrame(body: "abcde").utf8)).result else {
            Issue.record("a 5-byte body must be refused under a 4-byte limit")
            return
        }
        #expect(error.code == .tooLarge)
    }

    @Test func emptyBodyIsBadRequestNamingBody() {
        expectRefused(publishFrame(body: ""), naming: "'body'")
    }

    @Test func missingOrNonStringBodyIsBadRequestNamingBody() {
        expectRefused(#"{"type":"publish","channel":"general"}"#, naming: "'body'")
        expectRefused(#"{"type":"publish","channel":"general","body":["x"]}"#, naming: "'body'")
    }

    // MARK: Publish options

    @Test func clientIDOf64BytesIsAcceptedAnd65IsBadRequest() {
        let id64 = String(repeating: "c", count: 64)
        #expect(
            command(#"{"type":"publish","channel":"general","body":"x","client_id":"\#(id64)"}"#)
                == .publish(PublishRequest(channel: "general", body: "x", clientID: id64)))
        expectRefused(
            #"{"type":"publish","channel":"general","body":"x","client_id":"\#(id64)c"}"#, naming: "'client_id'")
    }

    @Test func emptyOrNonStringClientIDIsBadRequest() {
        expectRefused(#"{"type":"publish","channel":"general","body":"x","client_id":""}"#, naming: "'client_id'")
        expectRefused(#"{"type":"publish","channel":"general","body":"x","client_id":12}"#, naming: "'client_id'")
    }

    @Test(arguments: [#"[1,2]"#, #""text""#, "3", "true"])
    func metaThatIsNotAnObjectIsBadRequest(_ meta: String) {
        expectRefused(#"{"type":"publish","channel":"general","body":"x","meta":\#(meta)}"#, naming: "'meta'")
    }

    @Test func nonStringReplyToIsBadRequest() {
        expectRefused(#"{"type":"publish","channel":"general","body":"x","reply_to":1}"#, naming: "'reply_to'")
    }

    // MARK: Numbers

    @Test func negativeSeqIsBadRequestNamingSeq() {
        expectRefused(#"{"type":"mark_read","channel":"general","seq":-1}"#, naming: "'seq'")
    }

    @Test func missingSeqIsBadRequestNamingSeq() {
        expectRefused(#"{"type":"mark_read","channel":"general"}"#, naming: "'seq'")
    }

    @Test func negativeSinceOrBeforeIsBadRequestNamingIt() {
        expectRefused(#"{"type":"join","channel":"general","since":-5}"#, naming: "'since'")
        expectRefused(#"{"type":"history","channel":"general","before":-1}"#, naming: "'before'")
        expectRefused(#"{"type":"history","channel":"general","after":-1}"#, naming: "'after'")
    }

    @Test func nonIntegerLimitIsBadRequestNamingLimit() {
        expectRefused(#"{"type":"history","channel":"general","limit":"10"}"#, naming: "'limit'")
        expectRefused(#"{"type":"members","channel":"general","limit":0}"#, naming: "'limit'")
    }

    @Test func nonBoolForgetIsBadRequestNamingForget() {
        expectRefused(#"{"type":"leave","channel":"general","forget":"yes"}"#, naming: "'forget'")
    }

    // MARK: React

    @Test func emojiOf32BytesIsAcceptedAnd33IsBadRequest() {
        let emoji32 = String(repeating: "👍", count: 8)
        #expect(emoji32.utf8.count == 32)
        #expect(
            command(#"{"type":"react","message_id":"m_1","emoji":"\#(emoji32)"}"#)
                == .react(messageID: "m_1", emoji: emoji32, remove: false))
        expectRefused(#"{"type":"react","message_id":"m_1","emoji":"\#(emoji32)a"}"#, naming: "'emoji'")
    }

    @Test func emptyOrMissingEmojiIsBadRequest() {
        expectRefused(#"{"type":"react","message_id":"m_1","emoji":""}"#, naming: "'emoji'")
        expectRefused(#"{"type":"react","message_id":"m_1"}"#, naming: "'emoji'")
    }

    @Test func reactWithoutMessageIDIsBadRequest() {
        expectRefused(#"{"type":"react","emoji":"👍"}"#, naming: "'message_id'")
    }

    // MARK: Announce

    @Test func titleOf200CharactersIsAcceptedAnd201IsBadRequest() {
        let title200 = String(repeating: "t", count: 200)
        guard case .announce(let request)? = command(announceFrame(title: title200)) else { return }
        #expect(request.title == title200)
        expectRefused(announceFrame(title: title200 + "t"), naming: "'title'")
    }

    @Test func titleLimitCountsCharactersNotBytes() {
        // 200 four-byte characters: 800 bytes, still 200 characters.
        let title = String(repeating: "😀", count: 200)
        guard case .announce(let request)? = command(announceFrame(title: title)) else { return }
        #expect(request.title == title)
    }

    @Test func emptyOrMissingTitleIsBadRequest() {
        expectRefused(announceFrame(title: ""), naming: "'title'")
        expectRefused(#"{"type":"announce","body":"x","audience":{"all":true}}"#, naming: "'title'")
    }

    @Test(arguments: [
        #"{}"#, #"{"all":false}"#, #"{"channels":[]}"#, #""all""#, #"{"channels":"general"}"#,
    ])
    func malformedAudienceIsBadRequest(_ audience: String) {
        expectRefused(announceFrame(audience: audience), naming: "'audience'")
    }

    @Test func audienceWithAnInvalidChannelNameIsBadRequest() {
        expectRefused(announceFrame(audience: #"{"channels":["general","Staff"]}"#), naming: "'audience.channels'")
        expectRefused(announceFrame(audience: #"{"channels":["general",7]}"#), naming: "'audience.channels'")
    }

    @Test func unknownPriorityIsBadRequestNamingPriority() {
        expectRefused(announceFrame(extra: #","priority":"high""#), naming: "'priority'")
        expectRefused(announceFrame(extra: #","priority":2"#), naming: "'priority'")
    }

    @Test func nonBoolRequireAckIsBadRequestNamingIt() {
        expectRefused(announceFrame(extra: #","require_ack":"yes""#), naming: "'require_ack'")
    }

    @Test func announceBodyOverSixteenKiBIsTooLarge() {
        let body = String(repeating: "b", count: 16_385)
        expectRefused(
            #"{"type":"announce","title":"t","body":"\#(body)","audience":{"all":true}}"#, code: .tooLarge, naming: "'body'"
        )
    }

    @Test func announceClientIDOver64BytesIsBadRequest() {
        let id = String(repeating: "c", count: 65)
        expectRefused(announceFrame(extra: #","client_id":"\#(id)""#), naming: "'client_id'")
    }

    // MARK: Ack and announcement ids

    @Test func unknownAckKindIsBadRequestNamingKind() {
        expectRefused(#"{"type":"ack","announcement_id":"a_1","kind":"seen"}"#, naming: "'kind'")
        expectRefused(#"{"type":"ack","announcement_id":"a_1","kind":1}"#, naming: "'kind'")
    }

    @Test func missingAnnouncementIDIsBadRequestNamingIt() {
        expectRefused(#"{"type":"ack","kind":"ack"}"#, naming: "'announcement_id'")
        expectRefused(#"{"type":"remind"}"#, naming: "'announcement_id'")
        expectRefused(#"{"type":"announcement_stats","announcement_id":3}"#, naming: "'announcement_id'")
    }

    @Test func refreshWithoutTokenIsBadRequestNamingToken() {
        expectRefused(#"{"type":"refresh"}"#, naming: "'token'")
    }

    // MARK: U+0000 and meta size (hardening)

    @Test func nulIsRefusedInEveryTextField() {
        expectRefused(publishFrame(body: #"visible\u0000hidden"#), naming: "U+0000")
        expectRefused(
            #"{"type":"publish","channel":"general","body":"x","client_id":"cid\u0000x"}"#, naming: "'client_id'")
        expectRefused(#"{"type":"publish","channel":"general","body":"x","reply_to":"m\u0000"}"#, naming: "'reply_to'")
        expectRefused(#"{"type":"react","message_id":"m_1","emoji":"👍\u0000"}"#, naming: "'emoji'")
        expectRefused(announceFrame(title: #"Fire\u0000drill"#), naming: "'title'")
        expectRefused(#"{"type":"members","channel":"general","after":"ola\u0000"}"#, naming: "'after'")
        expectRefused(#"{"type":"join","channel":"general","epoch":"e_\u0000"}"#, naming: "'epoch'")
        // Inside meta it is kept whole: meta is stored as JSON text, where it stays escaped.
        guard case .publish(let request)? = command(#"{"type":"publish","channel":"general","body":"x","meta":{"k":"a\u0000b"}}"#)
        else { return }
        #expect(request.metaJSON == #"{"k":"a\u0000b"}"#)
    }

    @Test func metaOver4KiBIsTooLarge() {
        let fits = String(repeating: "x", count: Limits.maxMetaBytes - 8)
        #expect(command(#"{"type":"publish","channel":"general","body":"x","meta":{"k":"\#(fits)"}}"#) != nil)
        let tooBig = String(repeating: "x", count: Limits.maxMetaBytes - 7)
        expectRefused(
            #"{"type":"publish","channel":"general","body":"x","meta":{"k":"\#(tooBig)"}}"#, code: .tooLarge,
            naming: "'meta'")
    }
}
