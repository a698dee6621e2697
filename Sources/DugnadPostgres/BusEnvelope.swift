import DugnadCore

/// One thing a node tells the others over the bus.
enum BusItem: Sendable, Equatable {
    /// A chat message, its event's JSON inline.
    case message(channel: String, seq: Int64, json: [UInt8])
    /// A chat message too large to travel inline: receivers read it from storage.
    case messageReference(channel: String, seq: Int64)
    /// Any other event for a channel's subscribers (typing, reaction, …).
    case channelEvent(channel: String, exceptUser: String?, json: [UInt8])
    /// An event for every connection of these users (announcement, read position, …).
    case usersEvent(users: [String], json: [UInt8])
    /// The sender's presence changed; `counter` numbers its presence items in order.
    case presence(counter: Int64, changes: [PresenceState.Change])
    /// All of the sender's presence, as of its presence item `counter`.
    case snapshot(counter: Int64, PresenceState.Snapshot)
    /// The sender is alive; its last presence item was `counter`.
    case heartbeat(counter: Int64)
    /// Asks `node` (every node when nil) to send a snapshot.
    case snapshotRequest(node: String?)
    /// The sender is shutting down: forget its presence now.
    case goodbye
    /// Announcement figures changed on the sender.
    case statsChanged([String])
    /// An item too large for a notification, in the spool table under this id.
    case spooled(id: Int64)
}

/// The text of one notification: a version, the sender's node id, then items. Every
/// field is length-prefixed (`<bytes>:<bytes>`), so that no value needs escaping and the
/// JSON of an event travels as it is.
struct BusEnvelope: Sendable, Equatable {
    var node: String
    var items: [BusItem]

    static let version = "d1"

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        Self.field(Self.version, into: &out)
        Self.field(node, into: &out)
        for item in items { Self.encode(item, into: &out) }
        return out
    }

    /// The bytes `item` adds to an envelope.
    static func size(of item: BusItem) -> Int {
        var out: [UInt8] = []
        encode(item, into: &out)
        return out.count
    }

    /// The bytes of an envelope of `node` without items.
    static func headerSize(node: String) -> Int {
        BusEnvelope(node: node, items: []).encoded().count
    }

    static func encode(_ item: BusItem, into out: inout [UInt8]) {
        switch item {
        case .message(let channel, let seq, let json):
            fields(["m", channel, String(seq)], into: &out)
            field(json, into: &out)
        case .messageReference(let channel, let seq):
            fields(["r", channel, String(seq)], into: &out)
        case .channelEvent(let channel, let exceptUser, let json):
            fields(["c", channel, exceptUser == nil ? "0" : "1", exceptUser ?? ""], into: &out)
            field(json, into: &out)
        case .usersEvent(let users, let json):
            fields(["u", String(users.count)] + users, into: &out)
            field(json, into: &out)
        case .presence(let counter, let changes):
            fields(["p", String(counter), String(changes.count)], into: &out)
            for change in changes {
                fields([change.channel, change.user.id, change.user.name, change.present ? "1" : "0"], into: &out)
            }
        case .snapshot(let counter, let snapshot):
            fields(["s", String(counter), String(snapshot.online.count)] + snapshot.online, into: &out)
            let channels = snapshot.channels.sorted { $0.key < $1.key }
            field(String(channels.count), into: &out)
            for (channel, members) in channels {
                fields([channel, String(members.count)], into: &out)
                for member in members { fields([member.id, member.name], into: &out) }
            }
        case .heartbeat(let counter):
            fields(["h", String(counter)], into: &out)
        case .snapshotRequest(let node):
            fields(["q", node ?? ""], into: &out)
        case .goodbye:
            field("b", into: &out)
        case .statsChanged(let ids):
            fields(["a", String(ids.count)] + ids, into: &out)
        case .spooled(let id):
            fields(["x", String(id)], into: &out)
        }
    }

    /// Parses a notification; nil for anything malformed or of another version (a node
    /// of a newer release), which the receiver ignores.
    static func decode(_ bytes: [UInt8]) -> BusEnvelope? {
        var reader = Reader(bytes: bytes)
        guard reader.string() == version, let node = reader.string() else { return nil }
        var items: [BusItem] = []
        while !reader.isAtEnd {
            guard let item = reader.item() else { return nil }
            items.append(item)
        }
        return BusEnvelope(node: node, items: items)
    }

    private static func fields(_ values: [String], into out: inout [UInt8]) {
        for value in values { field(value, into: &out) }
    }

    private static func field(_ value: String, into out: inout [UInt8]) {
        field(Array(value.utf8), into: &out)
    }

    private static func field(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.append(contentsOf: String(bytes.count).utf8)
        out.append(UInt8(ascii: ":"))
        out.append(contentsOf: bytes)
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        var isAtEnd: Bool { index >= bytes.count }

        mutating func bytesField() -> [UInt8]? {
            var length = 0
            var digits = 0
            while index < bytes.count, bytes[index] != UInt8(ascii: ":") {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 9 else { return nil }
                length = length * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                index += 1
            }
            guard digits > 0, index < bytes.count, bytes.count - index - 1 >= length else { return nil }
            index += 1
            defer { index += length }
            return Array(bytes[index..<(index + length)])
        }

        mutating func string() -> String? {
            bytesField().map { String(decoding: $0, as: UTF8.self) }
        }

        mutating func int() -> Int64? {
            string().flatMap { Int64($0) }
        }

        mutating func count() -> Int? {
            guard let value = int(), value >= 0, value <= 1_000_000 else { return nil }
            return Int(value)
        }

        mutating func strings(_ count: Int) -> [String]? {
            var values: [String] = []
            values.reserveCapacity(count)
            for _ in 0..<count {
                guard let value = string() else { return nil }
                values.append(value)
            }
            return values
        }

        mutating func item() -> BusItem? {
            guard let kind = string() else { return nil }
            switch kind {
            case "m":
                guard let channel = string(), let seq = int(), let json = bytesField() else { return nil }
                return .message(channel: channel, seq: seq, json: json)
            case "r":
                guard let channel = string(), let seq = int() else { return nil }
                return .messageReference(channel: channel, seq: seq)
            case "c":
                guard let channel = string(), let flag = string(), let except = string(), let json = bytesField() else {
                    return nil
                }
                return .channelEvent(channel: channel, exceptUser: flag == "1" ? except : nil, json: json)
            case "u":
                guard let count = count(), let users = strings(count), let json = bytesField() else { return nil }
                return .usersEvent(users: users, json: json)
            case "p":
                guard let counter = int(), let count = count() else { return nil }
                var changes: [PresenceState.Change] = []
                for _ in 0..<count {
                    guard let values = strings(4) else { return nil }
                    changes.append(
                        PresenceState.Change(
                            channel: values[0], user: PresenceState.Member(id: values[1], name: values[2]),
                            present: values[3] == "1"))
                }
                return .presence(counter: counter, changes: changes)
            case "s":
                guard let counter = int(), let onlineCount = count(), let online = strings(onlineCount),
                    let channelCount = count()
                else { return nil }
                var snapshot = PresenceState.Snapshot(online: online)
                for _ in 0..<channelCount {
                    guard let channel = string(), let memberCount = count() else { return nil }
                    var members: [PresenceState.Member] = []
                    for _ in 0..<memberCount {
                        guard let values = strings(2) else { return nil }
                        members.append(PresenceState.Member(id: values[0], name: values[1]))
                    }
                    snapshot.channels[channel] = members
                }
                return .snapshot(counter: counter, snapshot)
            case "h":
                return int().map { .heartbeat(counter: $0) }
            case "q":
                return string().map { .snapshotRequest(node: $0.isEmpty ? nil : $0) }
            case "b":
                return .goodbye
            case "a":
                guard let count = count(), let ids = strings(count) else { return nil }
                return .statsChanged(ids)
            case "x":
                return int().map { .spooled(id: $0) }
            default:
                return nil
            }
        }
    }
}
