import DugnadProtocol
import NIOCore

/// Admin actions (who is in a private channel, bans, channels) and how they take effect on
/// open connections, on every node.
///
/// Each action is stored with its audit entry in one savepoint (`WriteOp.audited`). The
/// node that took it applies the effect at once; every node also reads the audit log every
/// `governanceCheckMillis` and applies what others took (another node, or the CLI beside a
/// running hub), so a removal or a ban reaches every open connection within a second.
extension Hub {
    /// The reason in a `removed` event when an admin took the user out.
    public static let removedByAdmin = "removed_by_admin"
    /// The reason in a `removed` event when the user's credentials no longer give access
    /// (the token's `channels` claim or the admin role is gone).
    public static let accessEnded = "access_ended"

    // MARK: - Admin actions

    /// Makes `userID` a member of `channel` (an admin's grant). True when the grant is new.
    public func addMember(_ userID: String, to channel: String, by actor: Principal) async throws -> Bool {
        try await refuseIfDirect(channel)
        let entry = AuditEntry.make(
            actor: actor.userID, .memberAdded, target: channel, detail: [("user", .string(userID))],
            at: WallClock.nowMillis())
        let outcome = try await runAudited(.grantMembership(userID: userID, channel: channel, at: entry.at), entry)
        guard case .membership(_, _, let created) = outcome else { throw ProtocolError(.internal, "unexpected outcome") }
        if created { reachLateRecipient(userID, channel: channel) }
        return created
    }

    /// Ends `userID`'s membership of `channel`, however it came about. True when there was one.
    public func removeMember(_ userID: String, from channel: String, by actor: Principal) async throws -> Bool {
        try await refuseIfDirect(channel)
        let entry = AuditEntry.make(
            actor: actor.userID, .memberRemoved, target: channel, detail: [("user", .string(userID))],
            at: WallClock.nowMillis())
        return try await runAudited(.revokeMembership(userID: userID, channel: channel), entry).changedSomething
    }

    /// Bans a user: every connection closes with 4500 `banned` and new ones are refused.
    public func ban(_ userID: String, reason: String?, by actor: Principal) async throws -> BanRecord {
        let now = WallClock.nowMillis()
        let record = BanRecord(userID: userID, bannedAt: now, bannedBy: actor.userID, reason: reason)
        let entry = AuditEntry.make(
            actor: actor.userID, .userBanned, target: userID, detail: reason.map { [("reason", .string($0))] } ?? [],
            at: now)
        _ = try await runAudited(.ban(record), entry)
        return record
    }

    /// Lifts a ban. True when there was one.
    public func unban(_ userID: String, by actor: Principal) async throws -> Bool {
        let entry = AuditEntry.make(actor: actor.userID, .userUnbanned, target: userID, at: WallClock.nowMillis())
        return try await runAudited(.unban(userID: userID), entry).changedSomething
    }

    /// Runs an audited admin op and applies its effect on this node at once (the other
    /// nodes read it from the log). The entry is noted as applied before it is written, so
    /// that this node's own reading of the log does not apply it a second time.
    func runAudited(_ op: WriteOp, _ entry: AuditEntry) async throws -> WriteOutcome {
        auditFollower.withLockedValue { $0?.noteApplied(entry) }
        let outcome = try await write(.audited(op, entry), on: group.next()).get()
        if outcome.changedSomething { apply(entry) }
        return outcome
    }

    // MARK: - Applying what the log says

    /// Reads the audit log past this node's place and applies what it has not applied yet.
    func followAudit() {
        guard let follower = auditFollower.withLockedValue({ $0 }) else { return }
        let now = WallClock.nowMillis()
        let after = follower.lastSeq
        let since = follower.since(now: now)
        let store = self.store
        readPool.runIfActive(eventLoop: group.next()) {
            try store.auditEntries(afterSeq: after, orSince: since, limit: 500)
        }.whenComplete { [self] result in
            switch result {
            case .success(let entries):
                let fresh = auditFollower.withLockedValue { $0?.take(entries, now: now) ?? [] }
                for entry in fresh { apply(entry) }
            case .failure(let error):
                logger.debug("could not read the audit log: \(error)")
            }
        }
    }

    /// The effect of one admin action on this node's caches and open connections.
    /// Idempotent: applying an entry twice changes nothing more.
    func apply(_ entry: AuditEntry) {
        switch AuditAction(rawValue: entry.action) {
        case .memberRemoved:
            guard let userID = entry.detail("user") else { return }
            noteMembership(userID: userID, channel: entry.target, kind: nil)
            endAccess(of: userID, to: entry.target, reason: Self.removedByAdmin)
        case .memberAdded:
            guard let userID = entry.detail("user") else { return }
            noteMembership(userID: userID, channel: entry.target, kind: .granted)
        case .userBanned:
            closeConnections(of: entry.target, code: .revoked, reason: AuthFailure.banned.rawValue)
        case .channelCreated where entry.detail("kind") == ChannelKind.direct.rawValue:
            applyDirectCreated(entry.target)
        case .channelCreated, .channelChanged:
            forgetChannel(entry.target)
        case .userUnbanned, .keyCreated, .keyRevoked, .announcementPosted, .usersImported, .goalsSet,
            .messageDeleted, nil:
            break
        }
    }

    /// Ends the subscriptions of `userID`'s connections on this node to `channel`, each
    /// with a `removed` event.
    func endAccess(of userID: String, to channel: String, reason: String) {
        local.forEachRouter { router in
            for sink in router.sinks(ofUser: userID) {
                (sink as? any ConnectionOutput)?.session?.accessEnded(to: channel, reason: reason)
            }
        }
    }

    /// Closes every connection of `userID` on this node.
    func closeConnections(of userID: String, code: CloseCode, reason: String) {
        local.forEachRouter { router in
            for sink in router.sinks(ofUser: userID) { sink.close(code: code, reason: reason) }
        }
    }
}

// MARK: - Reads an admin (or a member) may make

extension Hub {
    /// A page of a channel's members: for its members (with the access rules of
    /// `readableChannel`) and for admins, who may list any channel's.
    public func members(
        of channel: String, after: String?, limit: Int, by principal: Principal, on loop: any EventLoop
    ) -> EventLoopFuture<(members: [UserRecord], hasMore: Bool)> {
        let reachable: EventLoopFuture<ChannelRecord>
        if principal.isAdmin {
            reachable = self.channel(named: channel, on: loop).flatMap { [self] record in
                guard let record else { return loop.makeFailedFuture(ProtocolError.notFound("no channel '\(channel)'")) }
                // A direct channel's people are its own business: admins as anyone else,
                // unless the deployment lets admins in.
                if record.kind == .direct, !adminsReadDirect { return readableChannel(channel, by: principal, on: loop) }
                return loop.makeSucceededFuture(record)
            }
        } else {
            reachable = readableChannel(channel, by: principal, on: loop)
        }
        return reachable.flatMap { [self] _ in
            read(on: loop) { store in try store.members(channel: channel, afterUserID: after, limit: limit) }
        }
    }

    /// The audit log, newest first (admins only).
    public func auditPage(before: Int64?, limit: Int, by principal: Principal, on loop: any EventLoop)
        -> EventLoopFuture<(entries: [AuditEntry], hasMore: Bool)>
    {
        guard principal.isAdmin else {
            return loop.makeFailedFuture(ProtocolError.forbidden("only admins can read the audit log"))
        }
        return read(on: loop) { store in try store.auditPage(beforeSeq: before, limit: limit) }
    }

    /// Imports the people directory (admins), recorded in the audit log.
    public func importUsers(_ users: [UserRecord], by principal: Principal) async throws -> Int {
        let entry = AuditEntry.make(
            actor: principal.userID, .usersImported, target: "directory", detail: [("count", .int(Int64(users.count)))],
            at: WallClock.nowMillis())
        _ = try await runAudited(.importUsers(users), entry)
        return users.count
    }
}
