// libFuzzer target `http-json`: the HTTP API's JSON bodies, handled as
// Sources/DugnadServer/APIRouter.swift does (body object → fields of a WebSocket command
// of the route's type → CommandDecoder), and the users import: `UserDirectory.records(from:)`
// for JSON, and `UserDirectory.record(id:name:roles:)`, which checks each CSV row too (the CSV
// itself is read by the CLI with SwiftCSV, which this target cannot link).
//
// Input: byte 0 selects the route, the rest is the request body.
//   bits 0-1: 0 POST /channels/{name}/messages (publish), 1 POST /announcements (announce),
//             2 GET /channels/{name}/messages (history; the body object's members stand in
//             for the query parameters), 3 POST /users (bit 2 set: one CSV row's fields instead,
//             the body's text split at ',' into id, name and roles).
//   bits 2-4: which {name} the path carries (valid and invalid names).

private let decoder = CommandDecoder()
private let pathNames = ["general", "a", "x.y_z-1", String(repeating: "n", count: 64), String(repeating: "n", count: 65), "Bad Name", "", "ünicode"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let selector = input[0]
    let body = Array(input[1...])
    let name = pathNames[Int(selector >> 2) % pathNames.count]
    switch selector & 3 {
    case 0: route(body, as: "publish", adding: [("channel", .string(name))], input)
    case 1: route(body, as: "announce", adding: [], input)
    case 2: history(body, channel: name, input)
    default:
        if selector & 4 == 0 { users(body, input) } else { userRow(body, input) }
    }
    return 0
}

/// `APIRouter.jsonObject`: a non-empty body holding one JSON object.
private func jsonObject(_ body: [UInt8]) -> JSONObject? {
    guard !body.isEmpty, case .object(let object)? = try? JSONParser.parse(body) else { return nil }
    return object
}

/// `APIRouter.decodeFields`: the fields (minus `ref`) plus the route's `type`, written and decoded.
private func decodeFields(_ fields: [(String, JSONValue)], as type: String, _ input: [UInt8]) -> CommandDecoder.Decoded {
    var object = JSONObject(fields.filter { $0.0 != "ref" })
    object["type"] = .string(type)
    let decoded = decoder.decode(JSONValue.object(object).jsonBytes())
    checkDecoded(decoded, decoder: decoder, input)
    if decoded.ref != nil { violated("a ref survived although the router drops it", input) }
    if case .failure(let error) = decoded.result, error.message.hasPrefix("invalid JSON") {
        // The router wrote this JSON itself from a parsed object: it must always read back.
        violated("router-built JSON is invalid: \(error.message)", input)
    }
    if case .success(let command) = decoded.result, command.typeName != type {
        violated("route '\(type)' decoded as '\(command.typeName)'", input)
    }
    return decoded
}

private func route(_ body: [UInt8], as type: String, adding extra: [(String, JSONValue)], _ input: [UInt8]) {
    guard let object = jsonObject(body) else { return }
    let decoded = decodeFields(object.pairs.filter { $0.0 != "type" } + extra, as: type, input)
    if case .success(.publish(let request)) = decoded.result, case .string(let name)? = extra.first?.1,
        request.channel != name
    {
        violated("publish went to '\(request.channel)' instead of the path's '\(name)'", input)
    }
}

/// `GET /channels/{name}/messages?before=&after=&limit=`: each present member's text is the
/// query value, turned into a number when `Int64` reads it, as the router does.
private func history(_ body: [UInt8], channel: String, _ input: [UInt8]) {
    guard let object = jsonObject(body) else { return }
    var fields: [(String, JSONValue)] = [("channel", .string(channel))]
    for key in ["before", "after", "limit"] {
        let text: String?
        switch object[key] {
        case .string(let value)?: text = value
        case .int(let value)?: text = String(value)
        case .double(let value)?: text = String(value)
        default: text = nil
        }
        if let value = text { fields.append((key, Int64(value).map(JSONValue.int) ?? .string(value))) }
    }
    let decoded = decodeFields(fields, as: "history", input)
    if case .success(.history(let name, _)) = decoded.result, name != channel {
        violated("history of '\(name)' instead of '\(channel)'", input)
    }
}

private func checkUsers(_ users: [UserRecord], namesNonEmpty: Bool, _ input: [UInt8]) {
    if users.count > UserDirectory.maxUsers { violated("\(users.count) users imported", input) }
    for user in users {
        if user.id.isEmpty || user.id.utf8.count > Limits.maxIDBytes { violated("user id of \(user.id.utf8.count) bytes", input) }
        if namesNonEmpty, user.name.isEmpty { violated("user '\(user.id.prefix(40))' has an empty name", input) }
        if user.roles.isEmpty || user.roles.contains(where: { Role(rawValue: $0) == nil }) {
            violated("user '\(user.id.prefix(40))' has roles \(user.roles)", input)
        }
        if user.lastSeen != nil { violated("imported user with last_seen", input) }
    }
}

private func users(_ body: [UInt8], _ input: [UInt8]) {
    guard let object = jsonObject(body) else { return }
    do {
        let users = try UserDirectory.records(from: object["users"])
        if users.isEmpty { violated("an import of no users succeeded", input) }
        // A missing or empty name is the id, as in the CSV import.
        checkUsers(users, namesNonEmpty: true, input)
        for user in users where user.name.count > 200 { violated("name of \(user.name.count) characters kept", input) }
    } catch {
        if error.message.isEmpty || error.code != .badRequest { violated("users error \(error)", input) }
    }
}

/// One row of `dugnad users import` after the CLI split it into fields.
private func userRow(_ body: [UInt8], _ input: [UInt8]) {
    guard let text = String(validating: body, as: UTF8.self) else { return }
    let fields = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    let id = fields.first ?? ""
    do {
        let user = try UserDirectory.record(
            id: id, name: fields.count > 1 ? fields[1] : nil, roles: Array(fields.dropFirst(2)))
        checkUsers([user], namesNonEmpty: true, input)
        if user.id != id { violated("id '\(id.prefix(40))' stored as '\(user.id.prefix(40))'", input) }
        if user.name.count > UserDirectory.maxNameCharacters { violated("name of \(user.name.count) characters kept", input) }
    } catch {
        if !error.message.hasPrefix("id ") && !error.message.hasPrefix("roles ") {
            violated("users CSV refusal without its field: \(error.message)", input)
        }
    }
}
