// Shared by the libFuzzer targets in fuzz/. Compiled into the same module as the
// DugnadProtocol sources (see scripts/fuzz), so it uses their public and internal API
// without an import.

/// Stops the process with a message libFuzzer reports as a crash (the input is saved).
func violated(_ what: String, _ input: [UInt8]) -> Never {
    let shown = String(decoding: input.prefix(512), as: UTF8.self)
    fatalError("fuzz invariant violated: \(what)\ninput (\(input.count) bytes, first 512 as UTF-8): \(shown)")
}

/// The JSON parser and writer agree with each other and with UTF-8:
/// - a document that parses is valid UTF-8 (the parser is strict, so nothing is repaired);
/// - parse → write → parse gives an equal value, and writing that again gives the same bytes;
/// - the written form is valid UTF-8 and has no raw U+2028/U+2029 or control characters.
/// Returns the parsed value, or nil when the input is not JSON.
@discardableResult
func checkJSONRoundTrip(_ input: [UInt8]) -> JSONValue? {
    let value: JSONValue
    do {
        value = try JSONParser.parse(input)
    } catch {
        guard !error.message.isEmpty, error.offset >= 0, error.offset <= input.count else {
            violated("parse error without a message or with offset \(error.offset) outside 0...\(input.count)", input)
        }
        return nil
    }
    guard String(validating: input, as: UTF8.self) != nil else {
        violated("the parser accepted input that is not valid UTF-8", input)
    }
    let written = value.jsonBytes()
    guard String(validating: written, as: UTF8.self) != nil else {
        violated("the writer produced invalid UTF-8", input)
    }
    if written.contains(where: { $0 < 0x20 }) { violated("the writer left a raw control character", input) }
    if containsLineSeparator(written) { violated("the writer left a raw U+2028/U+2029", input) }
    let reparsed: JSONValue
    do {
        reparsed = try JSONParser.parse(written)
    } catch {
        violated("written JSON does not parse again: \(error.message)", input)
    }
    guard reparsed == value else { violated("parse(write(v)) != v", input) }
    guard reparsed.jsonBytes() == written else { violated("write is not stable: write(parse(write(v))) != write(v)", input) }
    checkObjectLookups(value, input)
    return value
}

private func containsLineSeparator(_ bytes: [UInt8]) -> Bool {
    guard bytes.count >= 3 else { return false }
    for i in 0..<(bytes.count - 2) where bytes[i] == 0xE2 && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9) {
        return true
    }
    return false
}

/// Every member of every object is found by key (the index above `linearLimit` agrees
/// with the key order), an object rebuilt from its pairs is equal, and re-assigning a
/// member keeps the count.
private func checkObjectLookups(_ value: JSONValue, _ input: [UInt8]) {
    switch value {
    case .array(let items):
        for item in items { checkObjectLookups(item, input) }
    case .object(let object):
        var count = 0
        for (key, member) in object {
            count += 1
            guard object[key] == member else { violated("object lookup of '\(key.prefix(40))' disagrees with iteration", input) }
            checkObjectLookups(member, input)
        }
        guard count == object.count else { violated("object count disagrees with iteration", input) }
        let rebuilt = JSONObject(object.pairs)
        guard rebuilt == object, rebuilt.count == object.count else { violated("JSONObject(pairs) != object", input) }
        if let (firstKey, _) = object.first(where: { _ in true }) {
            var copy = object
            copy[firstKey] = .null
            guard copy.count == object.count, copy[firstKey] == .null else { violated("re-assigning a member changed the count", input) }
        }
    default:
        break
    }
}

/// The fields of a decoded command respect the contract's limits.
func checkCommandLimits(_ command: ClientCommand, limits: Limits, _ input: [UInt8]) {
    func channel(_ name: String) {
        if !ChannelName.isValid(name) { violated("accepted invalid channel name '\(name.prefix(80))'", input) }
    }
    func id(_ text: String?, _ what: String, max: Int = Limits.maxIDBytes) {
        if let text, text.utf8.count > max { violated("accepted \(what) of \(text.utf8.count) bytes", input) }
    }
    func body(_ text: String) {
        if text.isEmpty || text.utf8.count > limits.maxBodyBytes { violated("accepted body of \(text.utf8.count) bytes", input) }
    }
    func clientID(_ text: String?) {
        if let text, text.isEmpty || text.utf8.count > Limits.maxClientIDBytes {
            violated("accepted client_id of \(text.utf8.count) bytes", input)
        }
    }
    switch command {
    case .auth(let token): id(token, "token", max: 16_384)
    case .join(let request):
        channel(request.channel)
        if let since = request.since, since < 0 { violated("accepted negative since", input) }
        if let history = request.history, !(0...Limits.maxHistoryLimit).contains(history) { violated("history \(history)", input) }
        id(request.epoch, "epoch")
    case .leave(let name, _), .presence(let name), .typing(let name): channel(name)
    case .markRead(let name, let seq):
        channel(name)
        if seq < 0 { violated("accepted negative seq", input) }
    case .publish(let request):
        channel(request.channel)
        body(request.body)
        id(request.replyTo, "reply_to")
        clientID(request.clientID)
        if let meta = request.metaJSON {
            guard case .object? = try? JSONParser.parse(meta) else { violated("metaJSON is not a JSON object", input) }
        }
    case .history(let name, let page):
        channel(name)
        if page.before != nil, page.after != nil { violated("accepted before and after together", input) }
        if let before = page.before, before < 0 { violated("negative before", input) }
        if let after = page.after, after < 0 { violated("negative after", input) }
        if !(1...Limits.maxHistoryLimit).contains(page.limit) { violated("history limit \(page.limit)", input) }
    case .members(let name, let limit, let after):
        channel(name)
        if !(1...Limits.maxMembersLimit).contains(limit) { violated("members limit \(limit)", input) }
        id(after, "after")
    case .react(let messageID, let emoji, _):
        id(messageID, "message_id")
        if emoji.isEmpty || emoji.utf8.count > Limits.maxEmojiBytes { violated("emoji of \(emoji.utf8.count) bytes", input) }
    case .edit(let messageID, let text):
        id(messageID, "message_id")
        if messageID.isEmpty { violated("accepted an empty message_id", input) }
        body(text)
    case .delete(let messageID):
        id(messageID, "message_id")
        if messageID.isEmpty { violated("accepted an empty message_id", input) }
    case .announce(let request):
        if request.title.isEmpty || request.title.count > Limits.maxTitleCharacters { violated("title of \(request.title.count) characters", input) }
        body(request.body)
        clientID(request.clientID)
        if let until = request.until, until < 0 { violated("accepted negative until", input) }
        if case .channels(let names) = request.audience {
            if names.isEmpty || names.count > 1_000 || Set(names).count != names.count { violated("audience of \(names.count) channels", input) }
            for name in names { channel(name) }
        }
    case .ack(let announcementID, _), .announcementStats(let announcementID), .remind(let announcementID):
        id(announcementID, "announcement_id")
    case .announcements(let query):
        id(query.before, "before")
        if !(1...AnnouncementsQuery.maxLimit).contains(query.limit) { violated("announcements limit \(query.limit)", input) }
    case .channels(let query):
        if let text = query.text, text.isEmpty || text.count > DirectoryQuery.maxQueryCharacters {
            violated("directory query of \(text.count) characters", input)
        }
        if let after = query.after { channel(after) }
        if !(1...DirectoryQuery.maxLimit).contains(query.limit) { violated("directory limit \(query.limit)", input) }
    case .describe(let name, let description):
        channel(name)
        if let description, description.isEmpty || description.count > Limits.maxDescriptionCharacters {
            violated("description of \(description.count) characters", input)
        }
    case .search(let request):
        if request.text.isEmpty || request.text.count > SearchRequest.maxQueryCharacters {
            violated("search query of \(request.text.count) characters", input)
        }
        if request.text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            violated("search query with a control character", input)
        }
        if let name = request.channel { channel(name) }
        id(request.fromID, "from")
        if let from = request.fromID, from.isEmpty { violated("accepted an empty from", input) }
        if let before = request.before, before < 0 { violated("negative search before", input) }
        if !(1...SearchRequest.maxLimit).contains(request.limit) { violated("search limit \(request.limit)", input) }
    case .direct(let request):
        if !(1...DirectRequest.maxOthers).contains(request.users.count) { violated("direct with \(request.users.count) users", input) }
        if Set(request.users).count != request.users.count { violated("direct with a repeated user", input) }
        for user in request.users {
            if user.isEmpty { violated("direct with an empty user id", input) }
            id(user, "users")
        }
    case .refresh(let token): id(token, "token", max: 16_384)
    case .ping: break
    }
}

/// The command written back as a frame, in the wire's field names. Decoding it must give
/// the same command ("a success re-validates").
func encode(_ command: ClientCommand) -> JSONObject {
    var object = JSONObject()
    object["type"] = .string(command.typeName)
    func set(_ key: String, _ value: String?) { if let value { object[key] = .string(value) } }
    func set(_ key: String, _ value: Int64?) { if let value { object[key] = .int(value) } }
    switch command {
    case .auth(let token): set("token", token)
    case .join(let request):
        set("channel", request.channel)
        set("since", request.since)
        set("epoch", request.epoch)
        set("history", request.history.map(Int64.init))
    case .leave(let channel, let forget):
        set("channel", channel)
        object["forget"] = .bool(forget)
    case .markRead(let channel, let seq):
        set("channel", channel)
        set("seq", seq)
    case .publish(let request):
        set("channel", request.channel)
        set("body", request.body)
        set("reply_to", request.replyTo)
        if let meta = request.metaJSON, let value = try? JSONParser.parse(meta) { object["meta"] = value }
        set("client_id", request.clientID)
    case .history(let channel, let page):
        set("channel", channel)
        set("before", page.before)
        set("after", page.after)
        set("limit", Int64(page.limit))
    case .presence(let channel), .typing(let channel): set("channel", channel)
    case .members(let channel, let limit, let after):
        set("channel", channel)
        set("limit", Int64(limit))
        set("after", after)
    case .react(let messageID, let emoji, let remove):
        set("message_id", messageID)
        set("emoji", emoji)
        object["remove"] = .bool(remove)
    case .edit(let messageID, let body):
        set("message_id", messageID)
        set("body", body)
    case .delete(let messageID): set("message_id", messageID)
    case .announce(let request):
        set("title", request.title)
        set("body", request.body)
        switch request.audience {
        case .all: object["audience"] = .object(JSONObject([("all", .bool(true))]))
        case .channels(let names): object["audience"] = .object(JSONObject([("channels", .array(names.map(JSONValue.string)))]))
        }
        set("priority", request.priority.rawValue)
        object["require_ack"] = .bool(request.requireAck)
        set("client_id", request.clientID)
        set("until", request.until)
    case .ack(let announcementID, let kind):
        set("announcement_id", announcementID)
        set("kind", kind.rawValue)
    case .announcementStats(let announcementID), .remind(let announcementID): set("announcement_id", announcementID)
    case .announcements(let query):
        object["received"] = .bool(query.received)
        if query.authorIsMe { set("author", "me") }
        set("before", query.before)
        set("limit", Int64(query.limit))
    case .channels(let query):
        set("query", query.text)
        set("after", query.after)
        set("limit", Int64(query.limit))
    case .describe(let channel, let description):
        set("channel", channel)
        object["description"] = description.map(JSONValue.string) ?? .null
    case .search(let request):
        set("query", request.text)
        set("channel", request.channel)
        set("from", request.fromID)
        set("before", request.before)
        set("limit", Int64(request.limit))
    case .direct(let request):
        object["users"] = .array(request.users.map(JSONValue.string))
    case .refresh(let token): set("token", token)
    case .ping: break
    }
    return object
}

/// Checks one decoder outcome: errors carry a message (and are bad_request or too_large),
/// a kept `ref` is a number or a short string, and a command is within limits and decodes
/// again to itself from its own wire form.
func checkDecoded(_ decoded: CommandDecoder.Decoded, decoder: CommandDecoder, _ input: [UInt8]) {
    switch decoded.ref {
    case nil, .int?, .double?: break
    case .string(let text)?:
        if text.utf8.count > Limits.maxIDBytes { violated("kept a ref of \(text.utf8.count) bytes", input) }
    default: violated("kept a ref that is not a number or string", input)
    }
    switch decoded.result {
    case .failure(let error):
        if error.message.isEmpty { violated("error without a message", input) }
        if error.code != .badRequest && error.code != .tooLarge { violated("decoder error code \(error.code.rawValue)", input) }
        if error.retryAfterMs != nil { violated("decoder error with retry_after_ms", input) }
        var writer = JSONWriter()
        error.write(to: &writer)
        guard case .object(let object)? = try? JSONParser.parse(writer.bytes), object["message"] == .string(error.message)
        else { violated("the error object does not round-trip", input) }
    case .success(let command):
        checkCommandLimits(command, limits: decoder.limits, input)
        let again = decoder.decode(JSONValue.object(encode(command)).jsonBytes())
        guard again.result == .success(command) else {
            violated("re-encoded command decodes differently: \(command) vs \(again.result)", input)
        }
    }
}
