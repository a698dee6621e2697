import DugnadProtocol
import Testing

@testable import DugnadCore

/// `WriteOp.apply(to:)`, the one dispatch from an op to an engine's method: each op
/// reaches its method with its own arguments, and the outcome comes back as returned.
@Suite struct WriteTransactionTests {
    @Test func everyOpReachesItsMethodWithItsArguments() throws {
        let message = NewMessage(
            id: "m_1", channel: "general", fromID: "u1", fromName: "U1", body: "hi", metaJSON: nil, replyTo: nil,
            clientID: "c1", ts: 5)
        let announcement = NewAnnouncement(
            id: "a_1", fromID: "u1", fromName: "U1", title: "T", body: "B", priority: .urgent, requireAck: true,
            audience: .channels(["general"]), clientID: nil, ts: 6)
        let key = APIKeyRecord(
            id: "k_1", name: "bot", hash: "h", scopes: ["publish"], channels: [], createdAt: 7, revokedAt: nil)
        let user = UserRecord(id: "u2", name: "U2", roles: [], lastSeen: nil)
        let cases: [(WriteOp, String)] = [
            (.publish(message), "publish m_1"),
            (
                .createChannel(name: "general", kind: .public, title: "General", createdAt: 1),
                "createChannel general public General 1 -"
            ),
            (
                .createChannel(name: "lunch", kind: .public, title: "lunch", createdAt: 2, createdBy: "u1"),
                "createChannel lunch public lunch 2 u1"
            ),
            (.join(userID: "u1", channel: "general", at: 2), "join u1 general 2"),
            (.forget(userID: "u1", channel: "general"), "forget u1 general"),
            (.markRead(userID: "u1", channel: "general", seq: 3), "markRead u1 general 3"),
            (.react(messageID: "m_1", userID: "u1", emoji: "+1", remove: true, at: 4), "react m_1 u1 +1 true 4"),
            (
                .editMessage(
                    MessageEdit(messageID: "m_1", body: "ny", at: 5, mentionCandidates: ["kari"], mentionsChannel: true)),
                "editMessage m_1 ny 5 kari true"
            ),
            (.deleteMessage(messageID: "m_1", at: 6), "deleteMessage m_1 6"),
            (.upsertUser(id: "u1", name: "U1", roles: ["leader"], seenAt: 5), "upsertUser u1 U1 [\"leader\"] 5"),
            (.openSession(id: "s_1", userID: "u1", at: 6), "openSession s_1 u1 6"),
            (.closeSession(id: "s_1", userID: "u1", at: 7), "closeSession s_1 u1 7"),
            (.heartbeat(at: 8), "heartbeat 8"),
            (.announce(announcement), "announce a_1"),
            (.markDelivered(announcementID: "a_1", userIDs: ["u2"], at: 9), "markDelivered a_1 [\"u2\"] 9"),
            (.acknowledge(announcementID: "a_1", userID: "u2", kind: .ack, at: 10), "acknowledge a_1 u2 ack 10"),
            (.remind(announcementID: "a_1", byUserID: "u1", at: 11), "remind a_1 u1 11 0"),
            (
                .dueUrgentResends(onlineUserIDs: ["u2"], now: 12, intervalMillis: 13, maxResends: 14),
                "dueUrgentResends [\"u2\"] 12 13 14"
            ),
            (.importUsers([user]), "importUsers u2"),
            (.createAPIKey(key), "createAPIKey k_1"),
            (.revokeAPIKey(idOrName: "bot", at: 15), "revokeAPIKey bot 15"),
            (.grantMembership(userID: "u2", channel: "board", at: 16), "grantMembership u2 board 16"),
            (.revokeMembership(userID: "u2", channel: "board"), "revokeMembership u2 board false"),
            (
                .revokeMembership(userID: "u2", channel: "board", keepGranted: true),
                "revokeMembership u2 board true"
            ),
            (.ban(BanRecord(userID: "u3", bannedAt: 17, bannedBy: "u1", reason: "spam")), "ban u3 17 u1 spam"),
            (.unban(userID: "u3"), "unban u3"),
            (.reachLateRecipient(userID: "u4", channel: "news", at: 9), "reachLateRecipient u4 news 9"),
            (
                .setGoals([GoalRecord(metric: .weeklyActivePct, target: 60, setBy: "a", setAt: 1)]),
                "setGoals weekly_active_pct=60.0"
            ),
        ]
        for (index, (op, call)) in cases.enumerated() {
            var transaction = RecordingTransaction(outcome: .count(index))
            #expect(try op.apply(to: &transaction) == .count(index))
            #expect(transaction.calls == [call])
        }
    }

    @Test func anAuditedOpIsLoggedOnlyWhenItChangedSomething() throws {
        let entry = AuditEntry.make(actor: "admin", .memberAdded, target: "board", detail: [("user", "u2")], at: 20)
        let op = WriteOp.audited(.grantMembership(userID: "u2", channel: "board", at: 20), entry)
        let channel = ChannelRecord(name: "board", kind: .private, title: "Board", epoch: "e_1", lastSeq: 0, createdAt: 1)
        var granted = RecordingTransaction(outcome: .membership(channel: channel, readSeq: 0, created: true))
        #expect(try op.apply(to: &granted) == .membership(channel: channel, readSeq: 0, created: true))
        #expect(granted.calls == ["grantMembership u2 board 20", "audit member.added board {\"user\":\"u2\"}"])
        var already = RecordingTransaction(outcome: .membership(channel: channel, readSeq: 0, created: false))
        _ = try op.apply(to: &already)
        #expect(already.calls == ["grantMembership u2 board 20"])
        var failing = RecordingTransaction(outcome: .done, failure: StoreError(.notFound, "no channel 'board'"))
        #expect(throws: StoreError.self) { try op.apply(to: &failing) }
        #expect(failing.calls == ["grantMembership u2 board 20"])
    }

    @Test func aThrownFailureComesThroughAsThrown() {
        var transaction = RecordingTransaction(outcome: .done, failure: StoreError(.notFound, "no channel 'x'"))
        #expect(throws: StoreError(.notFound, "no channel 'x'")) {
            try WriteOp.join(userID: "u1", channel: "x", at: 1).apply(to: &transaction)
        }
    }
}

/// Records each call as a line of text and answers with `outcome` (or throws `failure`).
private struct RecordingTransaction: WriteTransaction {
    var outcome: WriteOutcome
    var failure: StoreError?
    var calls: [String] = []

    init(outcome: WriteOutcome, failure: StoreError? = nil) {
        self.outcome = outcome
        self.failure = failure
    }

    private mutating func record(_ call: String) throws -> WriteOutcome {
        calls.append(call)
        if let failure { throw failure }
        return outcome
    }

    mutating func publish(_ message: NewMessage) throws -> WriteOutcome {
        try record("publish \(message.id)")
    }

    mutating func react(messageID: String, userID: String, emoji: String, remove: Bool, at: Int64) throws
        -> WriteOutcome
    {
        try record("react \(messageID) \(userID) \(emoji) \(remove) \(at)")
    }

    mutating func editMessage(_ edit: MessageEdit) throws -> WriteOutcome {
        try record(
            "editMessage \(edit.messageID) \(edit.body) \(edit.at) \(edit.mentionCandidates.joined(separator: ",")) \(edit.mentionsChannel)"
        )
    }

    mutating func deleteMessage(messageID: String, at: Int64) throws -> WriteOutcome {
        try record("deleteMessage \(messageID) \(at)")
    }

    mutating func createChannel(name: String, kind: ChannelKind, title: String, createdAt: Int64, createdBy: String?)
        throws -> WriteOutcome
    {
        try record("createChannel \(name) \(kind.rawValue) \(title) \(createdAt) \(createdBy ?? "-")")
    }

    mutating func describeChannel(name: String, description: String?) throws -> WriteOutcome {
        try record("describeChannel \(name) \(description ?? "-")")
    }

    mutating func join(userID: String, channel: String, at: Int64) throws -> WriteOutcome {
        try record("join \(userID) \(channel) \(at)")
    }

    mutating func forget(userID: String, channel: String) throws -> WriteOutcome {
        try record("forget \(userID) \(channel)")
    }

    mutating func markRead(userID: String, channel: String, seq: Int64) throws -> WriteOutcome {
        try record("markRead \(userID) \(channel) \(seq)")
    }

    mutating func upsertUser(id: String, name: String, roles: [String], seenAt: Int64) throws -> WriteOutcome {
        try record("upsertUser \(id) \(name) \(roles) \(seenAt)")
    }

    mutating func openSession(id: String, userID: String, at: Int64) throws -> WriteOutcome {
        try record("openSession \(id) \(userID) \(at)")
    }

    mutating func closeSession(id: String, userID: String, at: Int64) throws -> WriteOutcome {
        try record("closeSession \(id) \(userID) \(at)")
    }

    mutating func heartbeat(at: Int64) throws -> WriteOutcome {
        try record("heartbeat \(at)")
    }

    mutating func announce(_ announcement: NewAnnouncement) throws -> WriteOutcome {
        try record("announce \(announcement.id)")
    }

    mutating func markDelivered(announcementID: String, userIDs: [String], at: Int64) throws -> WriteOutcome {
        try record("markDelivered \(announcementID) \(userIDs) \(at)")
    }

    mutating func acknowledge(announcementID: String, userID: String, kind: AckKind, at: Int64) throws
        -> WriteOutcome
    {
        try record("acknowledge \(announcementID) \(userID) \(kind.rawValue) \(at)")
    }

    mutating func remind(announcementID: String, byUserID: String, at: Int64, notWithinMillis: Int64) throws
        -> WriteOutcome
    {
        try record("remind \(announcementID) \(byUserID) \(at) \(notWithinMillis)")
    }

    mutating func dueUrgentResends(onlineUserIDs: [String], now: Int64, intervalMillis: Int64, maxResends: Int)
        throws -> WriteOutcome
    {
        try record("dueUrgentResends \(onlineUserIDs) \(now) \(intervalMillis) \(maxResends)")
    }

    mutating func importUsers(_ users: [UserRecord]) throws -> WriteOutcome {
        try record("importUsers \(users.map(\.id).joined(separator: ","))")
    }

    mutating func createAPIKey(_ key: APIKeyRecord) throws -> WriteOutcome {
        try record("createAPIKey \(key.id)")
    }

    mutating func revokeAPIKey(idOrName: String, at: Int64) throws -> WriteOutcome {
        try record("revokeAPIKey \(idOrName) \(at)")
    }

    mutating func grantMembership(userID: String, channel: String, at: Int64) throws -> WriteOutcome {
        try record("grantMembership \(userID) \(channel) \(at)")
    }

    mutating func revokeMembership(userID: String, channel: String, keepGranted: Bool) throws -> WriteOutcome {
        try record("revokeMembership \(userID) \(channel) \(keepGranted)")
    }

    mutating func ban(_ ban: BanRecord) throws -> WriteOutcome {
        try record("ban \(ban.userID) \(ban.bannedAt) \(ban.bannedBy) \(ban.reason ?? "-")")
    }

    mutating func unban(userID: String) throws -> WriteOutcome {
        try record("unban \(userID)")
    }

    mutating func reachLateRecipient(userID: String, channel: String?, at: Int64) throws -> WriteOutcome {
        try record("reachLateRecipient \(userID) \(channel ?? "-") \(at)")
    }

    mutating func setGoals(_ goals: [GoalRecord]) throws -> WriteOutcome {
        try record("setGoals " + goals.map { "\($0.metric.rawValue)=\($0.target)" }.joined(separator: ","))
    }

    mutating func appendAudit(_ entry: AuditEntry) throws {
        calls.append("audit \(entry.action) \(entry.target) \(entry.detailJSON)")
    }
}
