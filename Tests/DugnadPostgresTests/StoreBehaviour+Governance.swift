import DugnadCore
import DugnadProtocol
import Testing

/// Governance on every store: granted memberships, bans, the directory's roles, the quota
/// count of channels made by joins, channel pages and the audit log.
extension StoreBehaviour {
    static let governance: [Behaviour] = [
        Behaviour(
            name: "a grant makes or marks a membership, and a revoke ends it whatever its kind",
            check: grantsMakeOrMarkMembershipsAndRevokesEndThem),
        Behaviour(name: "bans are stored, replaced and lifted", check: bansAreStoredReplacedAndLifted),
        Behaviour(
            name: "imported roles are the directory's and survive a token's upsert",
            check: importedRolesAreTheDirectorysAndSurviveUpserts),
        Behaviour(name: "channels made by a user's joins are counted", check: channelsMadeByJoinsAreCounted),
        Behaviour(name: "channels are listed in pages by name", check: channelsAreListedInPagesByName),
        Behaviour(
            name: "audited ops log what took effect, in order, paged newest first",
            check: auditedOpsLogWhatTookEffect),
    ]

    static func grantsMakeOrMarkMembershipsAndRevokesEndThem(_ harness: any StoreHarness) throws {
        let store = harness.store
        try expectAllSucceed(store, [.createChannel(name: "board", kind: .private, title: "Board", createdAt: 1)])
        try expectAllSucceed(store, [.publish(newMessage("m1", channel: "board"))])
        // Ola joined (through a claim) before the grant; Kari is new.
        try expectAllSucceed(store, [.join(userID: "ola", channel: "board", at: 2)])
        #expect(try store.membershipKind(userID: "ola", channel: "board") == .joined)
        #expect(try store.membershipKind(userID: "kari", channel: "board") == nil)
        let results = try store.write([
            .grantMembership(userID: "ola", channel: "board", at: 3),
            .grantMembership(userID: "kari", channel: "board", at: 3),
            .grantMembership(userID: "kari", channel: "board", at: 4),
            .grantMembership(userID: "kari", channel: "nowhere", at: 4),
        ])
        guard case .success(.membership(_, let olaSeq, let olaNew)) = results[0],
            case .success(.membership(_, let kariSeq, let kariNew)) = results[1],
            case .success(.membership(_, _, let again)) = results[2]
        else {
            Issue.record("grants failed: \(results)")
            return
        }
        #expect(olaNew && kariNew && !again)
        #expect(olaSeq == 1 && kariSeq == 1)
        #expect(results[3].failure?.kind == .notFound)
        #expect(try store.membershipKind(userID: "ola", channel: "board") == .granted)
        #expect(try store.memberships(userID: "kari").map(\.kind) == [.granted])
        // A lapsed claim never undoes a grant: only a joined membership ends that way.
        try expectAllSucceed(store, [.join(userID: "per", channel: "board", at: 5)])
        let lapsed = try store.write([
            .revokeMembership(userID: "kari", channel: "board", keepGranted: true),
            .revokeMembership(userID: "per", channel: "board", keepGranted: true),
        ])
        #expect(lapsed.map(\.outcome) == [.count(0), .count(1)])
        // A join of a granted member keeps the grant.
        try expectAllSucceed(store, [.join(userID: "kari", channel: "board", at: 5)])
        #expect(try store.membershipKind(userID: "kari", channel: "board") == .granted)
        let revoked = try store.write([
            .revokeMembership(userID: "kari", channel: "board"), .revokeMembership(userID: "kari", channel: "board"),
        ])
        #expect(revoked.map(\.outcome) == [.count(1), .count(0)])
        #expect(try store.membershipKind(userID: "kari", channel: "board") == nil)
    }

    static func bansAreStoredReplacedAndLifted(_ harness: any StoreHarness) throws {
        let store = harness.store
        #expect(try store.standing(userID: "troll") == UserStanding())
        let first = BanRecord(userID: "troll", bannedAt: 10, bannedBy: "admin", reason: "spam")
        let second = BanRecord(userID: "troll", bannedAt: 20, bannedBy: "boss", reason: nil)
        let results = try store.write([.ban(first), .ban(second)])
        #expect(results.map(\.outcome) == [.done, .done])
        #expect(try store.standing(userID: "troll").ban == second)
        let reopened = try harness.restarted()
        try reopened.prepare()
        #expect(try reopened.standing(userID: "troll").ban == second)
        let lifted = try reopened.write([.unban(userID: "troll"), .unban(userID: "troll")])
        #expect(lifted.map(\.outcome) == [.count(1), .count(0)])
        #expect(try reopened.standing(userID: "troll").ban == nil)
        reopened.close()
    }

    static func importedRolesAreTheDirectorysAndSurviveUpserts(_ harness: any StoreHarness) throws {
        let store = harness.store
        try expectAllSucceed(
            store, [.importUsers([UserRecord(id: "kari", name: "Kari", roles: ["leader"], lastSeen: nil)])])
        #expect(try store.standing(userID: "kari").directoryRoles == ["leader"])
        // Her token says member: the users row follows it, the directory's roles stay.
        try expectAllSucceed(store, [.upsertUser(id: "kari", name: "Kari N", roles: ["member"], seenAt: 5)])
        #expect(try store.standing(userID: "kari").directoryRoles == ["leader"])
        #expect(try store.user(id: "kari")?.roles == ["member"])
        #expect(try store.standing(userID: "stranger").directoryRoles == [])
    }

    static func channelsMadeByJoinsAreCounted(_ harness: any StoreHarness) throws {
        let store = harness.store
        try expectAllSucceed(
            store,
            [
                .createChannel(name: "a", kind: .public, title: "a", createdAt: 100, createdBy: "ola"),
                .createChannel(name: "b", kind: .public, title: "b", createdAt: 200, createdBy: "ola"),
                .createChannel(name: "c", kind: .public, title: "c", createdAt: 300, createdBy: "kari"),
                .createChannel(name: "d", kind: .public, title: "d", createdAt: 300),
            ])
        #expect(try store.channelsCreated(by: "ola", since: 0) == 2)
        #expect(try store.channelsCreated(by: "ola", since: 150) == 1)
        #expect(try store.channelsCreated(by: "kari", since: 0) == 1)
        #expect(try store.channelsCreated(by: "per", since: 0) == 0)
    }

    static func channelsAreListedInPagesByName(_ harness: any StoreHarness) throws {
        let store = harness.store
        try createChannels(store, "delta", "alpha", "echo", "charlie", "bravo")
        func page(after: String?) throws -> (names: [String], hasMore: Bool) {
            let read = try store.channelDirectory(DirectoryPageRequest(userID: "ola", folded: nil, afterName: after, limit: 2))
            return (read.entries.map(\.channel.name), read.hasMore)
        }
        let first = try page(after: nil)
        #expect(first.names == ["alpha", "bravo"])
        #expect(first.hasMore)
        #expect(try page(after: "bravo").names == ["charlie", "delta"])
        let last = try page(after: "delta")
        #expect(last.names == ["echo"])
        #expect(!last.hasMore)
    }

    static func auditedOpsLogWhatTookEffect(_ harness: any StoreHarness) throws {
        let store = harness.store
        #expect(try store.latestAuditSeq() == 0)
        func entry(_ action: AuditAction, _ target: String, at: Int64) -> AuditEntry {
            AuditEntry.make(actor: "admin", action, target: target, detail: [("user", "kari")], at: at)
        }
        let created = entry(.channelCreated, "board", at: 1)
        let added = entry(.memberAdded, "board", at: 2)
        let addedAgain = entry(.memberAdded, "board", at: 3)
        let removed = entry(.memberRemoved, "board", at: 4)
        let failed = entry(.memberAdded, "nowhere", at: 5)
        let results = try store.write([
            .audited(.createChannel(name: "board", kind: .private, title: "Board", createdAt: 1), created),
            .audited(.grantMembership(userID: "kari", channel: "board", at: 2), added),
            .audited(.grantMembership(userID: "kari", channel: "board", at: 3), addedAgain),
            .audited(.revokeMembership(userID: "kari", channel: "board"), removed),
            .audited(.grantMembership(userID: "kari", channel: "nowhere", at: 5), failed),
        ])
        #expect(results[4].failure?.kind == .notFound)
        // Only what took effect: the repeated grant changed nothing, the last one failed.
        let all = try store.auditEntries(afterSeq: 0, orSince: Int64.max, limit: 10)
        #expect(all.map(\.id) == [created.id, added.id, removed.id])
        #expect(all.map(\.action) == ["channel.created", "member.added", "member.removed"])
        #expect(all.first?.detail("user") == "kari")
        #expect(all.map(\.seq) == all.map(\.seq).sorted())
        let latest = try store.latestAuditSeq()
        #expect(latest == all.last?.seq)
        // After the last seq nothing, unless looking back in time.
        #expect(try store.auditEntries(afterSeq: latest, orSince: Int64.max, limit: 10).isEmpty)
        #expect(try store.auditEntries(afterSeq: latest, orSince: 2, limit: 10).map(\.id) == [added.id, removed.id])
        // Pages, newest first.
        let page = try store.auditPage(beforeSeq: nil, limit: 2)
        #expect(page.entries.map(\.id) == [removed.id, added.id])
        #expect(page.hasMore)
        let rest = try store.auditPage(beforeSeq: page.entries.last?.seq, limit: 2)
        #expect(rest.entries.map(\.id) == [created.id])
        #expect(!rest.hasMore)
    }
}
