/// Turns one client text frame into a `ClientCommand`, checking every field against the
/// contract. Pure: no I/O, no state, so it is unit-tested and fuzzed on its own.
public struct CommandDecoder: Sendable {
    public var limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The outcome of decoding: the `ref` (when one could be read) travels with the error
    /// so that a bad request with a `ref` gets a `reply`, and one without gets an `error`.
    public struct Decoded: Sendable, Equatable {
        public var ref: JSONValue?
        public var result: Result<ClientCommand, ProtocolError>
    }

    public func decode(_ bytes: some Collection<UInt8>) -> Decoded {
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            return Decoded(ref: nil, result: .failure(.badRequest("invalid JSON: \(error)")))
        }
        guard case .object(let object) = root else {
            return Decoded(ref: nil, result: .failure(.badRequest("a frame must be a JSON object")))
        }
        var ref: JSONValue?
        switch object["ref"] {
        case nil, .null?:
            ref = nil
        case .int?, .double?:
            ref = object["ref"]
        case .string(let text)?:
            guard text.utf8.count <= Limits.maxIDBytes else {
                return Decoded(ref: nil, result: .failure(.badRequest("'ref' is longer than \(Limits.maxIDBytes) bytes")))
            }
            ref = object["ref"]
        default:
            return Decoded(ref: nil, result: .failure(.badRequest("'ref' must be a number or a string")))
        }
        do {
            let fields = Fields(object: object, limits: limits)
            return Decoded(ref: ref, result: .success(try fields.command()))
        } catch {
            return Decoded(ref: ref, result: .failure(error))
        }
    }
}

/// Typed access to a frame's fields with contract-worded errors.
private struct Fields {
    let object: JSONObject
    let limits: Limits

    func command() throws(ProtocolError) -> ClientCommand {
        guard let typeValue = object["type"] else { throw .badRequest("missing field 'type'") }
        guard case .string(let type) = typeValue else { throw .badRequest("'type' must be a string") }
        switch type {
        case "auth":
            return .auth(token: try optionalString("token", maxBytes: 16_384))
        case "join":
            let history = try optionalInt("history", min: 0).map { Int(min($0, Int64(Limits.maxHistoryLimit))) }
            let since = try optionalInt("since", min: 0)
            return .join(
                JoinRequest(
                    channel: try channel(), since: since, epoch: try optionalString("epoch", maxBytes: Limits.maxIDBytes),
                    history: history))
        case "leave":
            return .leave(channel: try channel(), forget: try optionalBool("forget") ?? false)
        case "mark_read":
            return .markRead(channel: try channel(), seq: try requiredInt("seq", min: 0))
        case "publish":
            return .publish(
                PublishRequest(
                    channel: try channel(), body: try body(),
                    replyTo: try optionalString("reply_to", maxBytes: Limits.maxIDBytes),
                    metaJSON: try meta(), clientID: try clientID()))
        case "history":
            let before = try optionalInt("before", min: 0)
            let after = try optionalInt("after", min: 0)
            if before != nil, after != nil { throw .badRequest("'before' and 'after' cannot be used together") }
            let limit = try optionalInt("limit", min: 1).map { Int(min($0, Int64(Limits.maxHistoryLimit))) }
            return .history(
                channel: try channel(),
                page: HistoryRequest(before: before, after: after, limit: limit ?? Limits.defaultHistoryLimit))
        case "presence":
            return .presence(channel: try channel())
        case "members":
            let limit = try optionalInt("limit", min: 1).map { Int(min($0, Int64(Limits.maxMembersLimit))) }
            return .members(
                channel: try channel(), limit: limit ?? Limits.defaultMembersLimit,
                afterUserID: try optionalString("after", maxBytes: Limits.maxIDBytes))
        case "typing":
            return .typing(channel: try channel())
        case "react":
            let emoji = try requiredString("emoji", maxBytes: Limits.maxEmojiBytes)
            guard !emoji.isEmpty else { throw .badRequest("'emoji' must not be empty") }
            return .react(
                messageID: try requiredString("message_id", maxBytes: Limits.maxIDBytes), emoji: emoji,
                remove: try optionalBool("remove") ?? false)
        case "edit":
            return .edit(messageID: try messageID(), body: try body())
        case "delete":
            return .delete(messageID: try messageID())
        case "announce":
            return .announce(try announce())
        case "ack":
            let kindText = try optionalString("kind", maxBytes: 16) ?? "read"
            guard let kind = AckKind(rawValue: kindText) else { throw .badRequest("'kind' must be 'read' or 'ack'") }
            return .ack(announcementID: try requiredString("announcement_id", maxBytes: Limits.maxIDBytes), kind: kind)
        case "announcement_stats":
            return .announcementStats(announcementID: try requiredString("announcement_id", maxBytes: Limits.maxIDBytes))
        case "remind":
            return .remind(announcementID: try requiredString("announcement_id", maxBytes: Limits.maxIDBytes))
        case "announcements":
            let author = try optionalString("author", maxBytes: 16)
            guard author == nil || author == "me" else { throw .badRequest("'author' may only be \"me\"") }
            let limit = try optionalInt("limit", min: 1).map { Int(min($0, Int64(AnnouncementsQuery.maxLimit))) }
            return .announcements(
                AnnouncementsQuery(
                    received: try optionalBool("received") ?? false, authorIsMe: author != nil,
                    before: try optionalString("before", maxBytes: Limits.maxIDBytes),
                    limit: limit ?? AnnouncementsQuery.defaultLimit))
        case "channels":
            return .channels(
                try DirectoryQuery.checked(
                    query: try optionalString("query", maxBytes: DirectoryQuery.maxQueryCharacters * 4),
                    after: try optionalString("after", maxBytes: 64 * 4), limit: try optionalInt("limit", min: 1)))
        case "describe":
            guard object["description"] != nil else { throw .badRequest("missing field 'description' (null removes it)") }
            return .describe(channel: try channel(), description: try ChannelDescription.checked(object["description"]))
        case "search":
            return .search(
                try SearchRequest.checked(
                    query: try optionalString("query", maxBytes: SearchRequest.maxQueryCharacters * 4),
                    channel: try optionalString("channel", maxBytes: 64 * 4),
                    from: try optionalString("from", maxBytes: Limits.maxIDBytes),
                    before: try optionalInt("before", min: 0), limit: try optionalInt("limit", min: 1)))
        case "direct":
            return .direct(try DirectRequest.checked(object["users"]))
        case "refresh":
            return .refresh(token: try requiredString("token", maxBytes: 16_384))
        case "ping":
            return .ping
        default:
            throw .badRequest("unknown type '\(type.prefix(64))'")
        }
    }

    private func channel(_ name: String = "channel") throws(ProtocolError) -> String {
        let value = try requiredString(name, maxBytes: 64 * 4)
        guard ChannelName.isValid(value) else {
            throw .badRequest("'\(name)' must match ^[a-z0-9][a-z0-9._-]{0,63}$")
        }
        return value
    }

    private func body() throws(ProtocolError) -> String {
        guard let value = object["body"] else { throw .badRequest("missing field 'body'") }
        guard case .string(let text) = value else { throw .badRequest("'body' must be a string") }
        guard text.utf8.count <= limits.maxBodyBytes else {
            throw ProtocolError(.tooLarge, "'body' is larger than \(limits.maxBodyBytes) bytes")
        }
        guard !text.isEmpty else { throw .badRequest("'body' must not be empty") }
        try Self.refuseNUL(text, "body")
        return text
    }

    private func messageID() throws(ProtocolError) -> String {
        let id = try requiredString("message_id", maxBytes: Limits.maxIDBytes)
        guard !id.isEmpty else { throw .badRequest("'message_id' must not be empty") }
        return id
    }

    private func clientID() throws(ProtocolError) -> String? {
        guard let id = try optionalString("client_id", maxBytes: Limits.maxClientIDBytes) else { return nil }
        guard !id.isEmpty else { throw .badRequest("'client_id' must not be empty") }
        return id
    }

    private func meta() throws(ProtocolError) -> String? {
        switch object["meta"] {
        case nil, .null?: return nil
        case .object(let meta)?:
            // Stored as this compact JSON text, in which a U+0000 is always escaped: kept whole.
            let text = JSONValue.object(meta).jsonString()
            guard text.utf8.count <= Limits.maxMetaBytes else {
                throw ProtocolError(.tooLarge, "'meta' is larger than \(Limits.maxMetaBytes) bytes as JSON")
            }
            return text
        default: throw .badRequest("'meta' must be an object")
        }
    }

    private func announce() throws(ProtocolError) -> AnnounceRequest {
        let title = try requiredString("title", maxBytes: Limits.maxTitleCharacters * 4)
        guard !title.isEmpty, title.count <= Limits.maxTitleCharacters else {
            throw .badRequest("'title' must be 1 to \(Limits.maxTitleCharacters) characters")
        }
        let audience: Audience
        guard case .object(let audienceObject)? = object["audience"] else {
            throw .badRequest("'audience' must be {\"all\":true} or {\"channels\":[...]}")
        }
        if case .bool(true)? = audienceObject["all"] {
            audience = .all
        } else if case .array(let items)? = audienceObject["channels"], !items.isEmpty, items.count <= 1_000 {
            var names: [String] = []
            for item in items {
                guard case .string(let name) = item, ChannelName.isValid(name) else {
                    throw .badRequest("'audience.channels' must hold valid channel names")
                }
                if !names.contains(name) { names.append(name) }
            }
            audience = .channels(names)
        } else {
            throw .badRequest("'audience' must be {\"all\":true} or {\"channels\":[...]}")
        }
        let priorityText = try optionalString("priority", maxBytes: 16) ?? "normal"
        guard let priority = Priority(rawValue: priorityText) else {
            throw .badRequest("'priority' must be normal, important or urgent")
        }
        return AnnounceRequest(
            title: title, body: try body(), audience: audience, priority: priority,
            requireAck: try optionalBool("require_ack") ?? false, clientID: try clientID(),
            until: try optionalInt("until", min: 0))
    }

    private func requiredString(_ name: String, maxBytes: Int) throws(ProtocolError) -> String {
        guard let value = try optionalString(name, maxBytes: maxBytes) else { throw .badRequest("missing field '\(name)'") }
        return value
    }

    private func optionalString(_ name: String, maxBytes: Int) throws(ProtocolError) -> String? {
        switch object[name] {
        case nil, .null?: return nil
        case .string(let text)?:
            guard text.utf8.count <= maxBytes else { throw .badRequest("'\(name)' is longer than \(maxBytes) bytes") }
            try Self.refuseNUL(text, name)
            return text
        default: throw .badRequest("'\(name)' must be a string")
        }
    }

    /// U+0000 is refused in every text field, at the edge, on every engine: SQLite's C
    /// API would cut the stored text there (an id `"alice\u0000x"` would read back as
    /// `"alice"`), and PostgreSQL refuses it outright. One rule: never accepted.
    static func refuseNUL(_ text: String, _ name: String) throws(ProtocolError) {
        if text.utf8.contains(0) { throw .badRequest("'\(name)' must not contain U+0000") }
    }

    private func requiredInt(_ name: String, min: Int64) throws(ProtocolError) -> Int64 {
        guard let value = try optionalInt(name, min: min) else { throw .badRequest("missing field '\(name)'") }
        return value
    }

    private func optionalInt(_ name: String, min: Int64) throws(ProtocolError) -> Int64? {
        switch object[name] {
        case nil, .null?: return nil
        case .int(let number)?:
            guard number >= min else { throw .badRequest("'\(name)' must be at least \(min)") }
            return number
        case .double(let number)? where number.rounded() == number && abs(number) < 9e15:
            guard Int64(number) >= min else { throw .badRequest("'\(name)' must be at least \(min)") }
            return Int64(number)
        default: throw .badRequest("'\(name)' must be an integer")
        }
    }

    private func optionalBool(_ name: String) throws(ProtocolError) -> Bool? {
        switch object[name] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        default: throw .badRequest("'\(name)' must be true or false")
        }
    }
}
