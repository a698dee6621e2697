import DugnadProtocol

/// The people directory an admin imports, so that an announcement to "all" reaches people
/// who have never connected. From JSON (`POST /api/v1/users`) or CSV (`dugnad users import`).
public enum UserDirectory {
    /// Most users in one import. Default 100,000: a large company in one file.
    public static let maxUsers = 100_000

    /// `[{"id":..,"name":..,"roles":[..]}]`.
    public static func records(from value: JSONValue?) throws(ProtocolError) -> [UserRecord] {
        guard case .array(let items)? = value, !items.isEmpty else {
            throw .badRequest("'users' must be a non-empty array of {id, name, roles}")
        }
        guard items.count <= maxUsers else { throw .badRequest("at most \(maxUsers) users per import") }
        var users: [UserRecord] = []
        for (index, item) in items.enumerated() {
            guard case .string(let id)? = item["id"], !id.isEmpty, id.utf8.count <= Limits.maxIDBytes else {
                throw .badRequest("users[\(index)].id must be a non-empty string of at most \(Limits.maxIDBytes) bytes")
            }
            let name = item["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? id
            var roles: [String] = []
            switch item["roles"] {
            case nil, .null?: roles = []
            case .array(let values)?:
                for role in values {
                    guard case .string(let text) = role, Role(rawValue: text) != nil else {
                        throw .badRequest("users[\(index)].roles may hold member, leader, admin")
                    }
                    roles.append(text)
                }
            default: throw .badRequest("users[\(index)].roles must be an array")
            }
            users.append(
                UserRecord(id: id, name: String(name.prefix(200)), roles: roles.isEmpty ? ["member"] : roles, lastSeen: nil))
        }
        return users
    }

    /// CSV with the columns `id,name,roles` (roles separated by `;` or spaces inside the
    /// field); a header line starting with `id` is skipped; fields may be double-quoted.
    public static func records(csv: String) throws(ProtocolError) -> [UserRecord] {
        var users: [UserRecord] = []
        for (number, line) in csv.split(whereSeparator: \.isNewline).enumerated() {
            let fields = parseCSVLine(String(line))
            if fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            if number == 0, fields.first?.lowercased() == "id" { continue }
            guard let id = fields.first?.trimmingCharacters(in: .whitespaces), !id.isEmpty, id.utf8.count <= Limits.maxIDBytes
            else { throw .badRequest("line \(number + 1): the first field must be a user id") }
            let name = fields.count > 1 ? fields[1].trimmingCharacters(in: .whitespaces) : id
            let roleText = fields.count > 2 ? fields[2] : ""
            let roles = roleText.split(whereSeparator: { $0 == ";" || $0 == " " || $0 == "|" }).map(String.init)
            for role in roles where Role(rawValue: role) == nil {
                throw .badRequest("line \(number + 1): unknown role '\(role)' (member, leader, admin)")
            }
            users.append(
                UserRecord(
                    id: id, name: name.isEmpty ? id : String(name.prefix(200)), roles: roles.isEmpty ? ["member"] : roles,
                    lastSeen: nil))
            guard users.count <= maxUsers else { throw .badRequest("at most \(maxUsers) users per import") }
        }
        return users
    }

    static func parseCSVLine(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            if quoted {
                if character == "\"" {
                    // Peek: "" inside quotes is a literal quote.
                    if let next = iterator.next() {
                        if next == "\"" {
                            current.append("\"")
                        } else {
                            quoted = false
                            if next == "," {
                                fields.append(current)
                                current = ""
                            } else {
                                current.append(next)
                            }
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
