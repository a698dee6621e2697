import DugnadProtocol

/// How a user came to be a member of a channel. For a private channel it decides whether
/// the membership still gives access: a granted one does (until an admin removes it); a
/// joined one only while the user's token lists the channel (or the user is an admin).
public enum MembershipKind: String, Sendable, Equatable {
    /// The user joined (a public or announce channel, or a private one through a claim).
    case joined
    /// An admin made the user a member (`PUT /api/v1/channels/{name}/members/{user}`).
    case granted
}

/// A ban: the user's sockets are closed with 4500 `banned`, new ones are refused, and
/// HTTP requests with the user's tokens get 403.
public struct BanRecord: Sendable, Equatable {
    public var userID: String
    public var bannedAt: Int64
    public var bannedBy: String
    public var reason: String?

    public init(userID: String, bannedAt: Int64, bannedBy: String, reason: String?) {
        self.userID = userID
        self.bannedAt = bannedAt
        self.bannedBy = bannedBy
        self.reason = reason
    }
}

/// What the directory says of a user beyond the token: roles an admin gave (added to the
/// token's) and a ban. Read at every authentication of a person.
public struct UserStanding: Sendable, Equatable {
    public var directoryRoles: [String]
    public var ban: BanRecord?

    public init(directoryRoles: [String] = [], ban: BanRecord? = nil) {
        self.directoryRoles = directoryRoles
        self.ban = ban
    }
}

/// The admin actions the audit log records.
public enum AuditAction: String, Sendable, Equatable, CaseIterable {
    case memberAdded = "member.added"
    case memberRemoved = "member.removed"
    case userBanned = "user.banned"
    case userUnbanned = "user.unbanned"
    case channelCreated = "channel.created"
    case channelChanged = "channel.changed"
    case keyCreated = "key.created"
    case keyRevoked = "key.revoked"
    case announcementPosted = "announcement.posted"
    case usersImported = "users.imported"
    case goalsSet = "goals.set"
    /// An admin deleted someone else's message (moderation); an author's own deletion is
    /// not an admin action and is not logged.
    case messageDeleted = "message.deleted"
}

/// One entry of the audit log: who did what to what, and when. Also how every node (and
/// a hub beside a CLI that changed the database) learns of an admin action to apply it
/// live: nodes read new entries every `HubConfiguration.governanceCheckMillis`.
public struct AuditEntry: Sendable, Equatable {
    /// Position in the log, given by the store (0 before it is stored); pages and the
    /// nodes' reading follow it.
    public var seq: Int64
    /// `au_` and a ULID, made before the entry is stored: the node that wrote it knows it
    /// and does not apply the action twice when it reads the entry back.
    public var id: String
    /// Milliseconds since the Unix epoch.
    public var at: Int64
    /// Who: a user id, `bot:<key id>`, or `cliActor` for the command line on the hub's machine.
    public var actor: String

    /// The actor of every action taken with the `dugnad` command line (whoever may run it
    /// on the hub's machine, or reach its database, is its operator).
    public static let cliActor = "cli"
    public var action: String
    /// What: a channel name, a user id, a key id or an announcement id.
    public var target: String
    /// More about it, a compact JSON object (for member changes `{"user":…}`).
    public var detailJSON: String

    public init(seq: Int64 = 0, id: String, at: Int64, actor: String, action: String, target: String, detailJSON: String) {
        self.seq = seq
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.target = target
        self.detailJSON = detailJSON
    }

    /// A new entry (not yet stored) with a fresh id.
    public static func make(
        actor: String, _ action: AuditAction, target: String, detail: [(String, JSONValue)] = [], at: Int64
    ) -> AuditEntry {
        AuditEntry(
            id: "au_" + Identifiers.ulid(now: at), at: at, actor: actor, action: action.rawValue, target: target,
            detailJSON: JSONValue.object(JSONObject(detail)).jsonString())
    }

    /// The detail's field `key` when it is a string.
    public func detail(_ key: String) -> String? {
        (try? JSONParser.parse(Array(detailJSON.utf8)))?[key]?.stringValue
    }
}
