import DugnadProtocol

/// The people directory an admin imports, so that an announcement to "all" reaches people
/// who have never connected. From JSON (`POST /api/v1/users`, read here) or CSV
/// (`dugnad users import`, read by the CLI); both check each user with
/// `record(id:name:roles:)`, so both accept and refuse the same users.
public enum UserDirectory {
    /// Most users in one import. Default 100,000: a large company in one file.
    public static let maxUsers = 100_000

    /// Longest name kept, in characters; longer ones are cut. Default 200: a name, not a biography.
    public static let maxNameCharacters = 200

    /// Why `record(id:name:roles:)` refused a user. `message` starts with the field it is
    /// about ("id must be …", "roles may hold …"), so that each import can say where the
    /// user came from in its own words ("users[3].id must be …", "line 7: id must be …").
    public struct Refusal: Error, Sendable, Equatable {
        public let message: String
    }

    /// One user from either import, with the defaults applied: a missing or empty name is
    /// the id, no roles is `member`. Throws when the id is empty or longer than
    /// `Limits.maxIDBytes`, or a role is not one of `Role`'s.
    public static func record(id: String, name: String?, roles: [String]) throws(Refusal) -> UserRecord {
        guard !id.isEmpty, id.utf8.count <= Limits.maxIDBytes else {
            throw Refusal(message: "id must be a non-empty string of at most \(Limits.maxIDBytes) bytes")
        }
        // The same rules as for a token's `sub`: no U+0000 (storage would cut the text
        // there) and never a bot's id (`bot:…`).
        guard !id.utf8.contains(0), !(name?.utf8.contains(0) ?? false) else {
            throw Refusal(message: "id and name must not contain U+0000")
        }
        guard !id.hasPrefix("bot:") else { throw Refusal(message: "id must not start with 'bot:' (such ids belong to API keys)") }
        for role in roles where Role(rawValue: role) == nil {
            // The role comes from the file: quoted, and cut, so that the message stays one readable line.
            let shown = role.count > 40 ? String(role.prefix(40)) + "…" : role
            throw Refusal(message: "roles may hold \(roleNames), not '\(shown)'")
        }
        let name = name.flatMap { $0.isEmpty ? nil : $0 } ?? id
        return UserRecord(
            id: id, name: String(name.prefix(maxNameCharacters)), roles: roles.isEmpty ? [Role.member.rawValue] : roles,
            lastSeen: nil)
    }

    /// `[{"id":..,"name":..,"roles":[..]}]`.
    public static func records(from value: JSONValue?) throws(ProtocolError) -> [UserRecord] {
        guard case .array(let items)? = value, !items.isEmpty else {
            throw .badRequest("'users' must be a non-empty array of {id, name, roles}")
        }
        guard items.count <= maxUsers else { throw .badRequest("at most \(maxUsers) users per import") }
        var users: [UserRecord] = []
        for (index, item) in items.enumerated() {
            guard case .string(let id)? = item["id"] else {
                throw .badRequest("users[\(index)].id must be a non-empty string of at most \(Limits.maxIDBytes) bytes")
            }
            var roles: [String] = []
            switch item["roles"] {
            case nil, .null?: roles = []
            case .array(let values)?:
                for role in values {
                    guard case .string(let text) = role else {
                        throw .badRequest("users[\(index)].roles may hold \(roleNames)")
                    }
                    roles.append(text)
                }
            default: throw .badRequest("users[\(index)].roles must be an array")
            }
            do {
                users.append(try record(id: id, name: item["name"]?.stringValue, roles: roles))
            } catch {
                throw .badRequest("users[\(index)].\(error.message)")
            }
        }
        return users
    }

    /// "member, leader, admin": what a refusal lists as allowed.
    private static var roleNames: String { Role.allCases.map(\.rawValue).joined(separator: ", ") }
}
