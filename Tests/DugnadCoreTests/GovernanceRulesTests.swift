import DugnadProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import DugnadCore

/// The governance rules on their own: who reads and joins, reserved names, budgets per
/// user, the typing gate, the audit follower's bookkeeping, and the order of a
/// connection's writes.
@Suite struct GovernanceRulesTests {
    private func channel(_ name: String, _ kind: ChannelKind) -> ChannelRecord {
        ChannelRecord(name: name, kind: kind, title: name, epoch: "e_1", lastSeq: 0, createdAt: 0)
    }

    private func person(_ roles: Set<Role> = [.member], claims: Set<String> = []) -> Principal {
        Principal(userID: "ola", name: "Ola", roles: roles, channels: claims, expiresAt: nil)
    }

    @Test func privateChannelsAreReadByGrantsCurrentClaimsAndAdmins() {
        let board = channel("board", .private)
        #expect(ChannelAccess.memberMayRead(board, membership: .granted, principal: person()))
        #expect(!ChannelAccess.memberMayRead(board, membership: .joined, principal: person()))
        #expect(ChannelAccess.memberMayRead(board, membership: .joined, principal: person(claims: ["board"])))
        #expect(ChannelAccess.memberMayRead(board, membership: .joined, principal: person([.admin])))
        #expect(ChannelAccess.memberMayRead(channel("general", .public), membership: .joined, principal: person()))
        #expect(!ChannelAccess.mayJoin(board, membership: nil, principal: person()))
        #expect(ChannelAccess.mayJoin(board, membership: .granted, principal: person()))
        #expect(ChannelAccess.mayJoin(board, membership: nil, principal: person(claims: ["board"])))
        #expect(ChannelAccess.mayJoin(channel("news", .announce), membership: nil, principal: person()))
    }

    @Test func botsNeedTheScopeForWhatTheyDoAndReachOnlyTheirPrivateChannels() {
        func bot(_ scopes: Set<String>, channels: Set<String> = []) -> Principal {
            Principal(
                userID: "bot:k_1", name: "bot", roles: [], channels: channels, expiresAt: nil,
                kind: .bot(keyID: "k_1", scopes: scopes, channels: channels))
        }
        let general = channel("general", .public)
        let ops = channel("ops", .private)
        #expect(ChannelAccess.botMay(.post, general, principal: bot(["publish"])))
        #expect(!ChannelAccess.botMay(.read, general, principal: bot(["publish"])))
        #expect(ChannelAccess.botMay(.read, general, principal: bot(["read"])))
        #expect(!ChannelAccess.botMay(.read, ops, principal: bot(["read"])))
        #expect(ChannelAccess.botMay(.read, ops, principal: bot(["read"], channels: ["ops"])))
        #expect(ChannelAccess.botMay(.read, ops, principal: bot(["admin"])))
        #expect(!ChannelAccess.mayJoin(general, membership: nil, principal: bot(["publish"])))
    }

    @Test func reservedNamesMatchTheirPatterns() {
        let reserved = ReservedChannelNames(["hr*", "board", "*-private", "a*b*c"])
        for name in ["hr", "hr-cases", "board", "team-private", "abc", "aXbYc", "abbc"] {
            #expect(reserved.contains(name), "\(name)")
        }
        for name in ["boards", "chr", "private-team", "ab", "acb", "general"] {
            #expect(!reserved.contains(name), "\(name)")
        }
        #expect(!ReservedChannelNames().contains("anything"))
        // A pattern of many stars on a long name ends (no backtracking blow-up).
        #expect(!ReservedChannelNames([String(repeating: "a*", count: 30) + "z"]).contains(String(repeating: "a", count: 64)))
    }

    @Test func budgetsAreOnePerUserAndForgetWhatHasRefilled() {
        let budgets = UserBudgets(rates: [.publish: .init(perSecond: 1, burst: 2)])
        let start: UInt64 = 1_000_000_000
        #expect(budgets.take(.publish, for: "ola", now: start) == nil)
        #expect(budgets.take(.publish, for: "ola", now: start) == nil)
        #expect(budgets.take(.publish, for: "ola", now: start) != nil, "the third is over the burst")
        #expect(budgets.take(.publish, for: "kari", now: start) == nil, "each user has their own")
        #expect(budgets.trackedUsers == 2)
        budgets.forgetFull(now: start + 500_000_000)
        #expect(budgets.trackedUsers == 2, "not refilled yet")
        budgets.forgetFull(now: start + 3_000_000_000)
        #expect(budgets.trackedUsers == 0)
    }

    @Test func oneTypingPerUserAndChannelPerInterval() {
        let gate = TypingGate(intervalMillis: 2_000)
        let second: UInt64 = 1_000_000_000
        #expect(gate.allow(userID: "ola", channel: "general", now: 10 * second))
        #expect(!gate.allow(userID: "ola", channel: "general", now: 11 * second))
        #expect(gate.allow(userID: "ola", channel: "random", now: 11 * second))
        #expect(gate.allow(userID: "kari", channel: "general", now: 11 * second))
        #expect(gate.allow(userID: "ola", channel: "general", now: 12 * second))
        gate.forgetOld(now: 20 * second)
        #expect(gate.trackedCount == 0)
    }

    @Test func theAuditFollowerAppliesEachNewEntryOnceAndNothingFromBeforeItStarted() {
        func entry(_ seq: Int64, _ id: String, at: Int64) -> AuditEntry {
            AuditEntry(seq: seq, id: id, at: at, actor: "boss", action: "user.banned", target: "troll", detailJSON: "{}")
        }
        var follower = AuditFollower(lastSeq: 5, lookBackMillis: 30_000)
        // Read back at start: entries up to 5 were decided before this node started.
        #expect(follower.take([entry(4, "au_4", at: 99_000), entry(5, "au_5", at: 99_500)], now: 100_000).isEmpty)
        // A new one, and one this node wrote itself.
        var own = entry(7, "au_7", at: 100_200)
        own.seq = 0
        follower.noteApplied(own)
        let fresh = follower.take([entry(6, "au_6", at: 100_100), entry(7, "au_7", at: 100_200)], now: 100_300)
        #expect(fresh.map(\.id) == ["au_6"])
        #expect(follower.lastSeq == 7)
        // Read again in the look-back window: nothing twice; a late commit behind 7 once.
        let again = follower.take([entry(6, "au_6", at: 100_100), entry(6, "au_6b", at: 100_150)], now: 100_400)
        #expect(again.map(\.id) == ["au_6b"])
        // Far later, old ids are forgotten.
        _ = follower.take([], now: 1_000_000)
        #expect(follower.appliedCount == 0)
    }

    @Test func writesOfOneConnectionAreHandedOnInTheOrderTheCommandsArrived() {
        let loop = EmbeddedEventLoop()
        let order = WriteOrder(loop: loop)
        let first = order.ticket()
        let second = order.ticket()
        let third = order.ticket()
        let handed = NIOLockedValueBox<[String]>([])
        // The later commands are ready first (their reads came back first).
        third.whenTurn { handed.withLockedValue { $0.append("third") } }
        second.whenTurn { handed.withLockedValue { $0.append("second") } }
        loop.run()
        #expect(handed.withLockedValue { $0 }.isEmpty, "nothing before the first")
        first.whenTurn { handed.withLockedValue { $0.append("first") } }
        loop.run()
        #expect(handed.withLockedValue { $0 } == ["first", "second", "third"])
        // A command that ends without writing lets the next one go.
        let failed = order.ticket()
        let after = order.ticket()
        after.whenTurn { handed.withLockedValue { $0.append("after") } }
        loop.run()
        #expect(handed.withLockedValue { $0 }.count == 3)
        failed.release()
        loop.run()
        #expect(handed.withLockedValue { $0 }.last == "after")
        try? loop.syncShutdownGracefully()
    }
}
