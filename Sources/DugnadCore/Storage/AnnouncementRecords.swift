import DugnadProtocol

/// A leader's announcement as stored. The audience is fixed when it is posted.
public struct AnnouncementRecord: Sendable, Equatable {
    /// `a_` followed by a ULID.
    public var id: String
    public var fromID: String
    public var fromName: String
    public var title: String
    public var body: String
    public var priority: Priority
    public var requireAck: Bool
    public var audience: Audience
    public var clientID: String?
    /// Milliseconds since the Unix epoch.
    public var ts: Int64
    /// Number of users in the audience.
    public var audienceCount: Int
    /// Current until then (ms since the epoch): who joins the audience meanwhile gets it.
    public var until: Int64?

    public init(
        id: String, fromID: String, fromName: String, title: String, body: String, priority: Priority, requireAck: Bool,
        audience: Audience, clientID: String?, ts: Int64, audienceCount: Int, until: Int64? = nil
    ) {
        self.id = id
        self.fromID = fromID
        self.fromName = fromName
        self.title = title
        self.body = body
        self.priority = priority
        self.requireAck = requireAck
        self.audience = audience
        self.clientID = clientID
        self.ts = ts
        self.audienceCount = audienceCount
        self.until = until
    }
}

/// An announcement as one user sees it: with that user's receipt.
public struct UserAnnouncement: Sendable, Equatable {
    public var announcement: AnnouncementRecord
    public var readAt: Int64?
    public var ackedAt: Int64?

    public init(announcement: AnnouncementRecord, readAt: Int64?, ackedAt: Int64?) {
        self.announcement = announcement
        self.readAt = readAt
        self.ackedAt = ackedAt
    }
}

extension UserAnnouncement {
    /// How far back `Store.pendingAnnouncements` lists unread announcements that need no
    /// ack (7 days).
    public static let recentUnreadMillis: Int64 = 7 * 86_400_000
    /// How many of those it lists at most.
    public static let recentUnreadLimit = 50
}

/// Reach of one announcement: each receipt counted once, the first time.
public struct AnnouncementStats: Sendable, Equatable {
    public var audience: Int
    public var delivered: Int
    public var read: Int
    /// Acknowledged (an ack also counts as read).
    public var acked: Int

    public init(audience: Int, delivered: Int, read: Int, acked: Int) {
        self.audience = audience
        self.delivered = delivered
        self.read = read
        self.acked = acked
    }
}

/// An API key as stored: only the SHA-256 of the key, never the key.
public struct APIKeyRecord: Sendable, Equatable {
    /// `k_` + random; shown in listings and used to revoke.
    public var id: String
    public var name: String
    /// Lowercase hex SHA-256 of the full key (`dgn_…`).
    public var hash: String
    /// Subset of `publish`, `announce`, `read`, `admin`.
    public var scopes: [String]
    /// Private channels the key reaches (public and announce ones it reaches anyway).
    public var channels: [String]
    public var createdAt: Int64
    public var revokedAt: Int64?

    public init(
        id: String, name: String, hash: String, scopes: [String], channels: [String], createdAt: Int64, revokedAt: Int64?
    ) {
        self.id = id
        self.name = name
        self.hash = hash
        self.scopes = scopes
        self.channels = channels
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// A new announcement; the store fixes its audience in the same transaction.
public struct NewAnnouncement: Sendable, Equatable {
    public var id: String
    public var fromID: String
    public var fromName: String
    public var title: String
    public var body: String
    public var priority: Priority
    public var requireAck: Bool
    public var audience: Audience
    public var clientID: String?
    public var ts: Int64
    public var until: Int64?

    public init(
        id: String, fromID: String, fromName: String, title: String, body: String, priority: Priority, requireAck: Bool,
        audience: Audience, clientID: String?, ts: Int64, until: Int64? = nil
    ) {
        self.id = id
        self.fromID = fromID
        self.fromName = fromName
        self.title = title
        self.body = body
        self.priority = priority
        self.requireAck = requireAck
        self.audience = audience
        self.clientID = clientID
        self.ts = ts
        self.until = until
    }
}

extension NewAnnouncement {
    /// The announcement as stored, with the size of the audience fixed for it.
    public func stored(audienceCount: Int) -> AnnouncementRecord {
        AnnouncementRecord(
            id: id, fromID: fromID, fromName: fromName, title: title, body: body, priority: priority,
            requireAck: requireAck, audience: audience, clientID: clientID, ts: ts, audienceCount: audienceCount,
            until: until)
    }
}

extension Audience {
    /// The audience_kind column of every engine: `all` or `channels`.
    public var storedKind: String {
        switch self {
        case .all: "all"
        case .channels: "channels"
        }
    }

    /// The audience stored as `storedKind`; `channels` reads the audience_channels column
    /// (only for a kind other than `all`).
    public init(storedKind: String, channels: () throws -> [String]) rethrows {
        self = storedKind == "all" ? .all : .channels(try channels())
    }
}

/// Engagement figures over a window of days (`GET /api/v1/stats`).
public struct EngagementStats: Sendable, Equatable {
    public struct ChannelFigures: Sendable, Equatable {
        public var channel: String
        public var messages: Int
        /// Distinct users who posted in the window.
        public var activePosters: Int
        /// Distinct members whose read position moved in the window.
        public var activeReaders: Int

        public init(channel: String, messages: Int, activePosters: Int, activeReaders: Int) {
            self.channel = channel
            self.messages = messages
            self.activePosters = activePosters
            self.activeReaders = activeReaders
        }
    }

    public struct AnnouncementFigures: Sendable, Equatable {
        public var id: String
        public var title: String
        public var ts: Int64
        public var audience: Int
        public var read: Int
        public var acked: Int
        /// Median of (read time − posting time) over the users who read it; nil if nobody did.
        public var medianMillisToRead: Int64?

        public init(id: String, title: String, ts: Int64, audience: Int, read: Int, acked: Int, medianMillisToRead: Int64?) {
            self.id = id
            self.title = title
            self.ts = ts
            self.audience = audience
            self.read = read
            self.acked = acked
            self.medianMillisToRead = medianMillisToRead
        }
    }

    public struct DayFigures: Sendable, Equatable {
        /// `YYYY-MM-DD` in UTC.
        public var day: String
        /// Distinct users with a session (connection) that day.
        public var activeUsers: Int

        public init(day: String, activeUsers: Int) {
            self.day = day
            self.activeUsers = activeUsers
        }
    }

    public var from: Int64
    public var to: Int64
    public var channels: [ChannelFigures]
    public var announcements: [AnnouncementFigures]
    public var daily: [DayFigures]

    public init(from: Int64, to: Int64, channels: [ChannelFigures], announcements: [AnnouncementFigures], daily: [DayFigures]) {
        self.from = from
        self.to = to
        self.channels = channels
        self.announcements = announcements
        self.daily = daily
    }
}

/// Reminders of one announcement are spaced: a `remind` sends the announcement again to
/// everyone who has not acknowledged it, so a hundred in a second would send it a hundred
/// times to each of them.
public enum ReminderSpacing {
    /// nil when a reminder at `at` may go out after one at `last`; else the refusal.
    public static func refusal(last: Int64?, at: Int64, interval: Int64) -> StoreError? {
        guard let last, interval > 0, at - last < interval else { return nil }
        let wait = Int(interval - (at - last))
        return StoreError(
            .tooSoon, "this announcement was reminded \((at - last) / 1_000) s ago; once every \(interval / 1_000) s",
            retryAfterMs: max(1, wait))
    }
}
