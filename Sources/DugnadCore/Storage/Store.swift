import DugnadProtocol

/// Everything durable goes through a `Store`. The SQLite store is the embedded default;
/// another engine (PostgreSQL, for several nodes) implements the same protocol.
///
/// Every method may block on I/O: call them from the batching writer's thread or a
/// thread pool, never from an event loop.
public protocol Store: Sendable {
    /// Runs the named migrations that have not run yet, and closes sessions that a crash
    /// left open (with the last time they were known alive).
    func prepare() throws

    /// Runs pending migrations only: for tools (CLI) that open the store beside a running hub,
    /// whose open sessions must not be closed.
    func migrate() throws

    /// Stops background work (the SQLite store's checkpointer). Called once, at shutdown,
    /// after the last write; the default does nothing.
    func close()

    /// Commits all ops in one transaction (group commit); the result array has one entry
    /// per op, in order.
    ///
    /// An op that fails for its own reasons (`.notFound`, `.conflict`) fails alone and
    /// leaves nothing behind, so the rest of the batch is stored and seqs stay gapless.
    /// Every op but a publish runs in its own savepoint, rolled back when it fails. A
    /// publish, the hot path, normally runs without one: it finds every reason of its own
    /// to fail before it writes, or undoes what it wrote (SQLite: `SQLitePublishRun`;
    /// PostgreSQL: one statement per publish, and should one fail unexpectedly, the batch
    /// is rolled back and run again with a savepoint around every op, publishes included).
    /// The engines share the dispatch from op to SQL (`WriteTransaction`); the loop
    /// around it is each engine's own.
    ///
    /// Throws only when the whole transaction could not commit: then nothing of the batch
    /// is stored (PostgreSQL: unless the connection was lost during COMMIT itself, when
    /// whether it was stored is unknown, and the error says so).
    func write(_ ops: [WriteOp]) throws -> [Result<WriteOutcome, StoreError>]

    /// Work the engine keeps off the commit path (SQLite: the search index and the
    /// engagement rollups follow the messages in batches), done on the writer's thread
    /// after a batch. `writerIdle` says that no write waits. Returns nil when the writer
    /// need not call again, or how soon to call again if it stays idle (zero: at once).
    /// The default has none.
    func deferredWork(writerIdle: Bool) throws -> Duration?

    /// Brings the work kept off the commit path up to date (a tool that wrote many rows
    /// calls it before it ends, so that the hub does not start behind). The default has none.
    func catchUpDeferredWork() throws

    func channel(named name: String) throws -> ChannelRecord?
    func allChannels() throws -> [ChannelRecord]
    /// One page of the channel directory ordered by name, every kind, each with its member
    /// count, newest message's time and the caller's membership; `hasMore` when more follow.
    /// The hub decides which of them the caller may see.
    func channelDirectory(_ request: DirectoryPageRequest) throws -> (entries: [DirectoryEntry], hasMore: Bool)
    func memberships(userID: String) throws -> [MembershipRecord]
    /// What a session's opening needs, in one read: the user's standing (`standing`), the
    /// memberships, the members of its direct channels (for their titles) and the pending
    /// announcements (`pendingAnnouncements`). The hub still decides which memberships the
    /// credentials reach now.
    func sessionOpening(userID: String, now: Int64) throws -> SessionOpening
    /// How the user is a member of the channel; nil when not at all.
    func membershipKind(userID: String, channel: String) throws -> MembershipKind?
    /// Messages of one page, ascending seq, and whether more exist beyond the page in the
    /// direction asked (older ones for `.latest`); see `HistoryPage` for how engines read it.
    func messages(channel: String, page: HistoryPage) throws -> (messages: [StoredMessage], hasMore: Bool)
    func message(id: String) throws -> StoredMessage?
    /// Messages of `search.channels` that hold every term (a prefix term: a word that
    /// begins with it), best first (the engine's relevance among the newest
    /// `MessageSearch.candidateLimit` matches, then newest first); at most `search.limit`,
    /// and whether more matched. A deleted message (no body) is never found.
    func searchMessages(_ search: MessageSearch) throws -> (messages: [StoredMessage], hasMore: Bool)
    /// For recovery with `since`: the messages at or before `since` edited or deleted
    /// since the channel's newest seq was `since` or later (their `changed_at_seq`), as
    /// they are now, in the order they changed; at most `limit`, `hasMore` when more are.
    func changedMessages(channel: String, since: Int64, limit: Int) throws -> (messages: [StoredMessage], hasMore: Bool)
    /// Members ordered by user id, starting after `afterUserID`; `hasMore` when the page is
    /// full and more follow (engines read it through `MemberPage`).
    func members(channel: String, afterUserID: String?, limit: Int) throws -> (members: [UserRecord], hasMore: Bool)
    func user(id: String) throws -> UserRecord?
    /// Fails when storage cannot take a write right now (for `/readyz`).
    func checkWritable() throws

    // MARK: Announcements

    func announcement(id: String) throws -> AnnouncementRecord?
    func announcementStats(id: String) throws -> AnnouncementStats?
    /// The audience users in `state` (not read; or, of an announcement that requires it,
    /// not acknowledged), by id after `afterUserID`, at most `limit`.
    func announcementRecipients(id: String, state: ReceiptState, afterUserID: String?, limit: Int) throws
        -> (recipients: [AnnouncementRecipient], hasMore: Bool)
    func isInAudience(announcementID: String, userID: String) throws -> Bool
    /// For the welcome: every announcement whose audience includes the user, that requires
    /// an ack and is not acked (all of them, oldest first), then those of the last 7 days
    /// (since `now` − 7 days) the user has not read, newest first, at most 50.
    func pendingAnnouncements(userID: String, now: Int64) throws -> [UserAnnouncement]
    /// The announcements whose audience holds the user, newest first (by id), before
    /// `beforeID`; each with the user's own receipt.
    func receivedAnnouncements(userID: String, beforeID: String?, limit: Int) throws
        -> (announcements: [UserAnnouncement], hasMore: Bool)
    /// The announcements `authorID` posted (nil: everyone's), newest first, before `beforeID`.
    func announcements(authorID: String?, beforeID: String?, limit: Int) throws
        -> (announcements: [AnnouncementRecord], hasMore: Bool)

    // MARK: Users and keys

    func allUsers() throws -> [UserRecord]
    func apiKey(hash: String) throws -> APIKeyRecord?
    func apiKeys() throws -> [APIKeyRecord]
    /// Ids of keys revoked at or after `since` (the hub closes their connections).
    func revokedAPIKeyIDs(since: Int64) throws -> [String]

    // MARK: Governance

    /// Roles an admin gave the user in the directory, and a ban (the user may be unknown:
    /// then no roles and no ban).
    func standing(userID: String) throws -> UserStanding
    /// Channels whose `join` by this user created them since `since` (the daily quota).
    func channelsCreated(by userID: String, since: Int64) throws -> Int
    /// What every node reads to apply admin actions live: up to `limit` entries after
    /// `afterSeq`, and up to `limit` more at or after `since` with a seq up to `afterSeq`
    /// (PostgreSQL hands out seqs before commit, so an entry may become visible behind one
    /// already read); each part oldest first. The two parts have their own limits so that
    /// a burst of recent entries already read never holds back the new ones.
    func auditEntries(afterSeq: Int64, orSince since: Int64, limit: Int) throws -> [AuditEntry]
    /// The audit log newest first, before `beforeSeq` (nil: from the newest).
    func auditPage(beforeSeq: Int64?, limit: Int) throws -> (entries: [AuditEntry], hasMore: Bool)
    /// The newest entry's seq (0 for an empty log): where a starting node begins to read.
    func latestAuditSeq() throws -> Int64

    // MARK: Engagement

    /// Figures for [now − days, now]: per channel (messages, active posters, active
    /// readers), per announcement posted in the window, and daily active users.
    func engagement(days: Int, now: Int64) throws -> EngagementStats

    // MARK: Goals

    /// The targets admins set, in `GoalMetric` order.
    func goals() throws -> [GoalRecord]
    /// The counts behind the goals' figures for each week that ends at one of `weekEnds`
    /// (`GoalFigures`), read from one snapshot.
    func goalFigures(weekEnds: [Int64]) throws -> [GoalFigures]
}

extension Store {
    public func close() {}

    public func deferredWork(writerIdle: Bool) throws -> Duration? { nil }

    public func catchUpDeferredWork() throws {}

    /// The goals' counts for the one week that ends at `to`.
    public func goalFigures(to: Int64) throws -> GoalFigures {
        try goalFigures(weekEnds: [to]).first ?? GoalFigures()
    }

    public func isMember(userID: String, channel: String) throws -> Bool {
        try membershipKind(userID: userID, channel: channel) != nil
    }
}
