import Dispatch
import DugnadCore
import DugnadProtocol
import Foundation
import NIOConcurrencyHelpers
import PostgresNIO
import Testing

@testable import DugnadPostgres

extension PostgresTests {
    /// Several `PostgresStore`s on one schema, each with its own connections and node id:
    /// what several hub processes sharing the database do, on real threads.
    @Suite struct CrossNodeTests {
        @Test func twoNodesPublishingToOneChannelAtOnceGetGaplessUniqueSeqs() throws {
            let harness = try PostgresHarness(nodeID: "n_a")
            let other = try harness.another(nodeID: "n_b")
            try other.prepare()
            try createChannels(harness.store, "general")
            let stores = [harness.postgres, other]
            let batches = 40
            let batchSize = 5
            let seqs = NIOLockedValueBox<[[Int64]]>([[], []])

            try runOnThreads(2) { node in
                for batch in 0..<batches {
                    let ops: [WriteOp] = (0..<batchSize).map { index in
                        .publish(newMessage("m\(node)-\(batch)-\(index)", channel: "general", from: "u\(node)"))
                    }
                    for result in try stores[node].write(ops) {
                        guard let (message, duplicate) = result.message, !duplicate else {
                            throw StoreError(.conflict, "unexpected result \(result)")
                        }
                        seqs.withLockedValue { $0[node].append(message.seq) }
                    }
                }
            }

            let total = 2 * batches * batchSize
            let bothNodes = seqs.withLockedValue { $0 }
            // Each node sees its own seqs rise; together they are 1...total, each once.
            for node in 0..<2 {
                #expect(bothNodes[node].count == batches * batchSize)
                #expect(bothNodes[node] == bothNodes[node].sorted())
            }
            #expect((bothNodes[0] + bothNodes[1]).sorted() == Array(1...Int64(total)))
            #expect(try harness.store.channel(named: "general")?.lastSeq == Int64(total))
            let history = try other.messages(channel: "general", page: .after(seq: 0, limit: total + 10))
            #expect(history.messages.map(\.seq) == Array(1...Int64(total)))
            #expect(Set(history.messages.map(\.id)).count == total)
        }

        @Test func batchesCrossingTwoChannelsInOppositeOrderAllCommit() throws {
            // Node A publishes to x then y in each batch, node B to y then x: their row
            // locks can deadlock, PostgreSQL aborts one batch, and the store reruns it.
            let harness = try PostgresHarness(nodeID: "n_a")
            let other = try harness.another(nodeID: "n_b")
            try other.prepare()
            try createChannels(harness.store, "x", "y")
            let stores = [harness.postgres, other]
            let rounds = 8
            try runOnThreads(2) { node in
                let order = node == 0 ? ["x", "y"] : ["y", "x"]
                for round in 0..<rounds {
                    let ops: [WriteOp] = order.map { .publish(newMessage("m\(node)-\(round)-\($0)", channel: $0)) }
                    let results = try stores[node].write(ops)
                    guard results.allSatisfy({ $0.message != nil }) else {
                        throw StoreError(.conflict, "unexpected results \(results)")
                    }
                }
            }
            for channel in ["x", "y"] {
                let history = try harness.store.messages(channel: channel, page: .after(seq: 0, limit: 100))
                #expect(history.messages.map(\.seq) == Array(1...Int64(2 * rounds)))
            }
        }

        /// Read positions are locked in op order, so two nodes marking the same two
        /// members in opposite orders deadlock; PostgreSQL aborts one batch and the store
        /// reruns it, so both batches still succeed with the same answers.
        @Test func aDeadlockBetweenTwoNodesBatchesIsRerunAndBothCommit() throws {
            let harness = try PostgresHarness(nodeID: "n_a")
            let other = try harness.another(nodeID: "n_b")
            let side = try harness.another(nodeID: "n_side")
            try other.prepare()
            try createChannels(harness.store, "general")
            try expectAllSucceed(
                harness.store,
                [.join(userID: "u1", channel: "general", at: 1), .join(userID: "u2", channel: "general", at: 1)]
                    + (1...10).map { .publish(newMessage("m\($0)", channel: "general", from: "bot")) })
            let deadlocks = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
            let before = try harness.count(deadlocks)
            func waiting(_ nodes: String...) -> String {
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE application_name IN (\(nodes.map { "'dugnad \($0)'" }.joined(separator: ", ")))
                AND wait_event_type = 'Lock'
                """
            }

            // Node A marks u1 then u2, node B u2 then u1. Who takes which lock when is not left
            // to the threads' timing (a start signal alone made the deadlock a race that a busy
            // machine lost): a third connection holds u2's read position; B asks for it first
            // and waits at the head of its queue; A takes u1 and queues behind B for u2. When
            // the third lets go, B gets u2 and asks for u1, which A holds: a deadlock.
            let stores = [harness.postgres, other]
            let rounds = 2
            let answers = NIOLockedValueBox<[[WriteOutcome?]]>([[], []])
            for round in 0..<rounds {
                let errors = NIOLockedValueBox<[String]>([])
                let locked = DispatchSemaphore(value: 0)
                let release = DispatchSemaphore(value: 0)
                let finished = DispatchGroup()
                finished.enter()
                Thread {
                    defer { finished.leave() }
                    do {
                        _ = try side.writer.withConnection { db in
                            try db.query("BEGIN")
                            try db.query("SELECT 1 FROM memberships WHERE channel = 'general' AND user_id = 'u2' FOR UPDATE")
                            locked.signal()
                            release.wait()
                            try db.query("COMMIT")
                        }
                    } catch {
                        errors.withLockedValue { $0.append("the connection holding u2, round \(round): \(error)") }
                        locked.signal()
                    }
                }.start()
                locked.wait()
                func mark(node: Int) {
                    finished.enter()
                    Thread {
                        defer { finished.leave() }
                        let users = node == 0 ? ["u1", "u2"] : ["u2", "u1"]
                        do {
                            let results = try stores[node].write(
                                users.map { .markRead(userID: $0, channel: "general", seq: Int64(round + 1)) })
                            answers.withLockedValue { $0[node] += results.map(\.outcome) }
                        } catch {
                            errors.withLockedValue { $0.append("node \(node), round \(round): \(error)") }
                        }
                    }.start()
                }
                mark(node: 1)
                let bWaits = try waitUntil { try harness.count(waiting("n_b")) == 1 }
                mark(node: 0)
                let bothWait = try waitUntil { try harness.count(waiting("n_a", "n_b")) == 2 }
                release.signal()
                finished.wait()
                #expect(bWaits && bothWait, "round \(round): the batches never queued for u2 (B: \(bWaits))")
                for error in errors.withLockedValue({ $0 }) { Issue.record(Comment(rawValue: error)) }
            }
            let expected: [WriteOutcome?] = (1...rounds).flatMap { [.readSeq(Int64($0)), .readSeq(Int64($0))] }
            #expect(answers.withLockedValue { $0 } == [expected, expected])
            #expect(try harness.store.memberships(userID: "u2").first?.readSeq == Int64(rounds))
            // The server counts the deadlocks it broke. Its statistics are flushed lazily by
            // each backend (and were seen more than 60 s late on a loaded machine), so this
            // asks for at least one; that each round queued in deadlock order is checked above.
            #expect(try waitUntil { try harness.count(deadlocks) > before }, "no deadlock was counted")
        }

        @Test func theSameClientIDFromTwoNodesAtOnceStoresOneMessage() throws {
            let harness = try PostgresHarness(nodeID: "n_a")
            let other = try harness.another(nodeID: "n_b")
            try other.prepare()
            try createChannels(harness.store, "general")
            let stores = [harness.postgres, other]
            let rounds = 30
            let answers = NIOLockedValueBox<[[(message: StoredMessage, duplicate: Bool)]]>([[], []])
            let rendezvous = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]

            try runOnThreads(2) { node in
                for round in 0..<rounds {
                    // Both nodes send round `round` together.
                    rendezvous[node].signal()
                    rendezvous[1 - node].wait()
                    let result = try stores[node].write([
                        .publish(
                            newMessage("m\(node)-\(round)", channel: "general", from: "u1", clientID: "c\(round)"))
                    ])[0]
                    guard let answer = result.message else {
                        throw StoreError(.conflict, "unexpected result \(result)")
                    }
                    answers.withLockedValue { $0[node].append(answer) }
                }
            }

            let both = answers.withLockedValue { $0 }
            for round in 0..<rounds {
                let (first, second) = (both[0][round], both[1][round])
                #expect(first.message == second.message, "round \(round)")
                #expect(first.duplicate != second.duplicate, "round \(round): exactly one stores it")
                #expect(first.message.clientID == "c\(round)")
            }
            #expect(try harness.store.channel(named: "general")?.lastSeq == Int64(rounds))
            let history = try harness.store.messages(channel: "general", page: .after(seq: 0, limit: 100))
            #expect(history.messages.map(\.seq) == Array(1...Int64(rounds)))
        }

        /// The race the check-first path cannot see: node A has checked the key and waits
        /// for the channel's row lock while node B stores the same key (in another channel).
        /// A must answer with B's message, and give back the seq it had reserved.
        @Test func aKeyStoredByAnotherNodeWhileWaitingIsReturnedAndTheSeqGivenBack() throws {
            let harness = try PostgresHarness(nodeID: "n_a")
            let nodeB = try harness.another(nodeID: "n_b")
            let side = try harness.another(nodeID: "n_side")
            try nodeB.prepare()
            try createChannels(harness.store, "x", "y")

            let locked = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let answerA = NIOLockedValueBox<Result<WriteOutcome, StoreError>?>(nil)
            let finished = DispatchGroup()
            finished.enter()
            Thread {
                defer { finished.leave() }
                _ = try? side.writer.withConnection { db in
                    try db.query("BEGIN")
                    try db.query("SELECT last_seq FROM channels WHERE name = 'x' FOR UPDATE")
                    locked.signal()
                    release.wait()
                    try db.query("ROLLBACK")
                }
            }.start()
            locked.wait()

            finished.enter()
            Thread {
                defer { finished.leave() }
                let result = try? harness.store.write([
                    .publish(newMessage("from-a", channel: "x", from: "u1", clientID: "c1"))
                ])
                answerA.withLockedValue { $0 = result?.first }
            }.start()
            let waiting = try waitUntil {
                try harness.count(
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE application_name = 'dugnad n_a' AND wait_event_type = 'Lock'
                    """) == 1
            }
            #expect(waiting, "node A never waited for the channel's row lock")

            let answerB = try nodeB.write([.publish(newMessage("from-b", channel: "y", from: "u1", clientID: "c1"))])
            let stored = try #require(answerB[0].message)
            #expect(!stored.duplicate && stored.message.id == "from-b")
            release.signal()
            finished.wait()

            let fromA = try #require(answerA.withLockedValue { $0 }?.message)
            #expect(fromA.duplicate)
            #expect(fromA.message == stored.message)
            #expect(try harness.store.channel(named: "x")?.lastSeq == 0)
            #expect(try harness.store.message(id: "from-a") == nil)
            let next = try harness.store.write([.publish(newMessage("next", channel: "x"))])
            #expect(next[0].message?.message.seq == 1)
        }

        @Test func nodesStartingAtOnceRunTheMigrationsOnce() throws {
            let harness = try PostgresHarness(nodeID: "n_0", prepare: false)
            let stores = [harness.postgres] + (try (1..<4).map { try harness.another(nodeID: "n_\($0)") })
            try runOnThreads(stores.count) { node in
                try stores[node].prepare()
            }
            #expect(
                try harness.texts("SELECT name FROM dugnad_migrations ORDER BY name")
                    == [
                        // ORDER BY name: "v10" sorts after "v1-".
                        "v1-hub", "v10-direct", "v11-engagement-indexes", "v2-announcements", "v3-bus-spool",
                        "v4-governance", "v5-goals", "v6-announcement-until", "v7-directory", "v8-search", "v9-edits",
                    ])
            #expect(try stores[3].liveNodeIDs(now: WallClock.nowMillis(), timeoutMillis: 60_000) == ["n_0", "n_1", "n_2", "n_3"])
            // Every node works on the one schema, and a later start changes nothing.
            try createChannels(stores[1], "general")
            for (index, store) in stores.enumerated() {
                _ = try store.write([.publish(newMessage("m\(index)", channel: "general"))])
            }
            try stores[2].migrate()
            #expect(try stores[0].channel(named: "general")?.lastSeq == 4)
        }

        @Test func aStartClosesOnlyItsOwnLeftoversAndTheSweepClosesDeadNodesSessions() throws {
            let harness = try PostgresHarness(nodeID: "n_a")
            let nodeB = try harness.another(nodeID: "n_b")
            let nodeC = try harness.another(nodeID: "n_c")
            try nodeB.prepare()
            let start = WallClock.nowMillis()
            try expectAllSucceed(
                harness.store,
                [
                    .upsertUser(id: "u1", name: "Kari", roles: [], seenAt: start - 10_000),
                    .upsertUser(id: "u2", name: "Ola", roles: [], seenAt: start - 10_000),
                    .openSession(id: "s1", userID: "u1", at: start - 1_000),
                ])
            try expectAllSucceed(
                nodeB,
                [
                    .openSession(id: "s2", userID: "u2", at: start - 1_000),
                    .openSession(id: "s3", userID: "u3", at: start - 900),
                ])
            let openSessions = "SELECT id || '@' || node_id FROM sessions WHERE disconnected_at IS NULL ORDER BY id"

            // A third node starting leaves the live nodes' sessions alone.
            try nodeC.prepare()
            #expect(try harness.texts(openSessions) == ["s1@n_a", "s2@n_b", "s3@n_b"])

            // Node A restarts (same id): its own leftover is closed at its last sign of life.
            let restartedA = try harness.another(nodeID: "n_a")
            try restartedA.prepare()
            #expect(try harness.texts(openSessions) == ["s2@n_b", "s3@n_b"])
            #expect(
                try harness.texts("SELECT CAST(disconnected_at AS TEXT) FROM sessions WHERE id = 's1'") == ["\(start - 1_000)"])
            #expect(try harness.store.user(id: "u1")?.lastSeen == start - 1_000)

            // Node B is alive: a sweep now finds nothing.
            #expect(try nodeC.closeSessionsOfDeadNodes(now: WallClock.nowMillis(), timeoutMillis: 60_000) == [])
            #expect(try nodeC.liveNodeIDs(now: WallClock.nowMillis(), timeoutMillis: 60_000) == ["n_a", "n_b", "n_c"])

            // Node B's last heartbeat, then silence for longer than the timeout.
            let lastHeartbeat = WallClock.nowMillis() + 1_000
            try expectAllSucceed(nodeB, [.heartbeat(at: lastHeartbeat)])
            let later = lastHeartbeat + 60_001
            let closed = try nodeC.closeSessionsOfDeadNodes(now: later, timeoutMillis: 60_000)
            #expect(
                closed == [
                    AbandonedSession(sessionID: "s2", userID: "u2", nodeID: "n_b", closedAt: lastHeartbeat),
                    AbandonedSession(sessionID: "s3", userID: "u3", nodeID: "n_b", closedAt: lastHeartbeat),
                ])
            #expect(try harness.texts(openSessions).isEmpty)
            #expect(try harness.store.user(id: "u2")?.lastSeen == lastHeartbeat)
            #expect(try harness.store.user(id: "u3") == nil)
            // Dead nodes are forgotten (A and B by that clock); the sweeping node stays.
            #expect(try harness.texts("SELECT id FROM nodes ORDER BY id") == ["n_c"])
            #expect(try nodeC.closeSessionsOfDeadNodes(now: later, timeoutMillis: 60_000) == [])

            // A node declared dead that comes back registers again; its closed sessions stay closed.
            try expectAllSucceed(nodeB, [.heartbeat(at: later + 1)])
            #expect(try harness.texts("SELECT id FROM nodes ORDER BY id") == ["n_b", "n_c"])
            #expect(
                try harness.texts("SELECT CAST(disconnected_at AS TEXT) FROM sessions WHERE id = 's2'") == ["\(lastHeartbeat)"])
        }

        @Test func heartbeatsMoveOnlyTheirOwnNodesSessions() throws {
            let harness = try PostgresHarness(nodeID: "n_a")
            let nodeB = try harness.another(nodeID: "n_b")
            try nodeB.prepare()
            try expectAllSucceed(harness.store, [.openSession(id: "s1", userID: "u1", at: 100)])
            try expectAllSucceed(nodeB, [.openSession(id: "s2", userID: "u2", at: 100)])
            try expectAllSucceed(harness.store, [.heartbeat(at: 500)])
            #expect(
                try harness.texts("SELECT id || ':' || CAST(last_alive AS TEXT) FROM sessions ORDER BY id")
                    == ["s1:500", "s2:100"])
        }
    }
}

/// Runs `body(0)`, `body(1)`, … on as many threads at once, released together; records
/// every error as an issue.
func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    let gate = DispatchSemaphore(value: 0)
    let done = DispatchGroup()
    let errors = NIOLockedValueBox<[String]>([])
    for index in 0..<count {
        done.enter()
        Thread {
            defer { done.leave() }
            gate.wait()
            do {
                try body(index)
            } catch {
                errors.withLockedValue { $0.append("thread \(index): \(error)") }
            }
        }.start()
    }
    for _ in 0..<count {
        gate.signal()
    }
    done.wait()
    for error in errors.withLockedValue({ $0 }) {
        Issue.record(Comment(rawValue: error))
    }
}

/// Polls `condition` every 20 ms for up to 60 s (generous for a busy machine: it returns as
/// soon as the condition holds); whether it became true.
func waitUntil(_ condition: () throws -> Bool) throws -> Bool {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
        if try condition() {
            return true
        }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return false
}
