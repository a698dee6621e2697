/// The people of a direct conversation (`direct`, contract §9): the caller names the
/// others, 1 to `maxOthers` user ids, each once. Whether they are known to the hub, and
/// that the caller is not among them, is the hub's to check (it knows the caller).
public struct DirectRequest: Sendable, Equatable {
    /// The other people, in the order the caller gave them (the channel does not depend on
    /// the order: `DirectChannelName` sorts).
    public var users: [String]

    public init(users: [String]) {
        self.users = users
    }

    /// A direct channel holds the caller and at most 8 others: beyond that a group wants a
    /// named private channel that an admin can look after.
    public static let maxOthers = 8

    /// Checks `users` as a frame or an HTTP body carries it: an array of 1 to 8 distinct,
    /// non-empty user ids of at most 128 bytes without U+0000.
    public static func checked(_ value: JSONValue?) throws(ProtocolError) -> DirectRequest {
        guard let value, value != .null else { throw .badRequest("missing field 'users'") }
        guard case .array(let items) = value else { throw .badRequest("'users' must be an array of user ids") }
        guard (1...maxOthers).contains(items.count) else {
            throw .badRequest("'users' must name 1 to \(maxOthers) other people")
        }
        var users: [String] = []
        for item in items {
            guard case .string(let id) = item, !id.isEmpty else {
                throw .badRequest("'users' must hold non-empty user ids (strings)")
            }
            guard id.utf8.count <= Limits.maxIDBytes else {
                throw .badRequest("a user id in 'users' is longer than \(Limits.maxIDBytes) bytes")
            }
            guard !id.utf8.contains(0) else { throw .badRequest("'users' must not contain U+0000") }
            guard !users.contains(id) else { throw .badRequest("'users' names '\(id)' twice") }
            users.append(id)
        }
        return DirectRequest(users: users)
    }
}
