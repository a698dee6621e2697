import DugnadProtocol
import NIOHTTP1

/// The endpoints of sections 8 and 9, parsed from the method and the decoded path segments
/// alone, so that a request is routed (and refused when it goes nowhere) before any of its
/// body is read.
enum APIRoute: Equatable {
    case postMessage(channel: String)
    case getMessages(channel: String)
    case getPresence(channel: String)
    case getChannels
    case postChannel
    /// Sets a channel's description (admins, the channel's creator).
    case putChannel(channel: String)
    case postAnnouncement
    case getAnnouncement(id: String)
    case postUsers
    case getStats
    case putMember(channel: String, user: String)
    case deleteMember(channel: String, user: String)
    case getMembers(channel: String)
    case postBan(user: String)
    case deleteBan(user: String)
    case getAudit
    case getAnnouncements
    case getReceipts(announcement: String)
    case putGoals
    case getGoals
    /// Full-text search of the messages the caller may read.
    case getSearch
    /// `edit` over HTTP: the author's new body.
    case patchMessage(id: String)
    /// `delete` over HTTP: the author, or an admin.
    case deleteMessage(id: String)

    init?(method: HTTPMethod, segments: [String]) {
        guard segments.count >= 3, segments[0] == "api", segments[1] == "v1" else { return nil }
        let rest = Array(segments.dropFirst(2))
        switch (method, rest.count) {
        case (.POST, 3) where rest[0] == "channels" && rest[2] == "messages": self = .postMessage(channel: rest[1])
        case (.GET, 3) where rest[0] == "channels" && rest[2] == "messages": self = .getMessages(channel: rest[1])
        case (.GET, 3) where rest[0] == "channels" && rest[2] == "presence": self = .getPresence(channel: rest[1])
        case (.GET, 3) where rest[0] == "channels" && rest[2] == "members": self = .getMembers(channel: rest[1])
        case (.PUT, 4) where rest[0] == "channels" && rest[2] == "members":
            self = .putMember(channel: rest[1], user: rest[3])
        case (.DELETE, 4) where rest[0] == "channels" && rest[2] == "members":
            self = .deleteMember(channel: rest[1], user: rest[3])
        case (.GET, 1) where rest[0] == "channels": self = .getChannels
        case (.POST, 1) where rest[0] == "channels": self = .postChannel
        case (.PUT, 2) where rest[0] == "channels": self = .putChannel(channel: rest[1])
        case (.POST, 1) where rest[0] == "announcements": self = .postAnnouncement
        case (.GET, 2) where rest[0] == "announcements": self = .getAnnouncement(id: rest[1])
        case (.GET, 1) where rest[0] == "announcements": self = .getAnnouncements
        case (.GET, 3) where rest[0] == "announcements" && rest[2] == "receipts":
            self = .getReceipts(announcement: rest[1])
        case (.POST, 1) where rest[0] == "users": self = .postUsers
        case (.POST, 3) where rest[0] == "users" && rest[2] == "ban": self = .postBan(user: rest[1])
        case (.DELETE, 3) where rest[0] == "users" && rest[2] == "ban": self = .deleteBan(user: rest[1])
        case (.GET, 1) where rest[0] == "stats": self = .getStats
        case (.GET, 1) where rest[0] == "audit": self = .getAudit
        case (.PUT, 1) where rest[0] == "goals": self = .putGoals
        case (.GET, 1) where rest[0] == "goals": self = .getGoals
        case (.GET, 1) where rest[0] == "search": self = .getSearch
        case (.PATCH, 2) where rest[0] == "messages": self = .patchMessage(id: rest[1])
        case (.DELETE, 2) where rest[0] == "messages": self = .deleteMessage(id: rest[1])
        default: return nil
        }
    }

    /// Whether the route takes a request body (the others answer without reading one).
    var takesBody: Bool {
        switch self {
        case .postMessage, .postChannel, .putChannel, .postAnnouncement, .postUsers, .postBan, .putGoals, .patchMessage:
            true
        default: false
        }
    }

    /// Routes only admins may take: refused from the head, before any body is read.
    var adminOnly: Bool {
        switch self {
        case .postChannel, .postUsers, .putMember, .deleteMember, .postBan, .deleteBan, .getAudit, .putGoals: true
        default: false
        }
    }

    /// The channel name and user id the path names, checked as the protocol checks them
    /// in frames: a channel name of the contract's form; a user id of 1 to 128 bytes
    /// without U+0000 that is not a bot's.
    func checkPathParts() throws(ProtocolError) {
        let channel: String?
        let user: String?
        switch self {
        case .postMessage(let name), .getMessages(let name), .getPresence(let name), .getMembers(let name),
            .putChannel(let name):
            (channel, user) = (name, nil)
        case .putMember(let name, let id), .deleteMember(let name, let id):
            (channel, user) = (name, id)
        case .postBan(let id), .deleteBan(let id):
            (channel, user) = (nil, id)
        default:
            (channel, user) = (nil, nil)
        }
        if let channel, !ChannelName.isValid(channel) {
            throw .badRequest("the channel name must match ^[a-z0-9][a-z0-9._-]{0,63}$")
        }
        if let user {
            guard !user.isEmpty, user.utf8.count <= Limits.maxIDBytes, !user.utf8.contains(0) else {
                throw .badRequest("the user id must be 1 to \(Limits.maxIDBytes) bytes, without U+0000")
            }
            guard !user.hasPrefix("bot:") else {
                throw .badRequest("bots are API keys: revoke the key (dugnad keys revoke) instead")
            }
        }
    }
}
