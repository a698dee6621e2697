import DugnadCore
import DugnadProtocol
import Foundation
import Testing

/// Live tests of several nodes on one PostgreSQL database: real hubs on loopback ports,
/// real WebSocket clients, a real server. Skipped, and reported as skipped, without
/// `DUGNAD_TEST_POSTGRES_URL`. Serialized: each starts two or three hubs, which is
/// plenty for a small machine.
@Suite(
    .serialized,
    .enabled(
        if: TestCluster.isConfigured,
        "needs a PostgreSQL server: run scripts/postgres start and set DUGNAD_TEST_POSTGRES_URL to the URL it prints")
)
struct MultiNodeTests {
    @Test func aMessagePublishedOnNodeAReachesSubscribersOnNodeBInOrder() async throws {
        let cluster = try TestCluster()
        let a = try await cluster.startNode("n_a")
        let b = try await cluster.startNode("n_b")
        let kari = try await a.connect("kari", name: "Kari")
        let ola = try await b.connect("ola", name: "Ola")
        try await kari.ok("join", [("channel", "general")])
        try await ola.ok("join", [("channel", "general")])

        var sent: [JSONValue] = []
        for index in 1...10 {
            sent.append(try await kari.ok("publish", [("channel", "general"), ("body", .string("m\(index)"))]))
        }
        let atOla = try await ola.messages(10, in: "general")
        #expect(atOla.seqs == Array(1...10))
        #expect(atOla.compactMap { $0["body"]?.stringValue } == (1...10).map { "m\($0)" })
        #expect(atOla.map { $0["id"] } == sent.map { $0.at("message", "id") })
        #expect(atOla.first?.at("from", "name") == "Kari")

        // Ephemeral events cross too, and the publisher's own node still delivers to it.
        try await ola.send("typing", [("channel", "general")])
        let typing = try await kari.next(type: "typing")
        #expect(typing.at("user", "id") == "ola")
        #expect((try await kari.messages(10, in: "general")).seqs == Array(1...10))
        #expect(await ola.collect(type: "message", for: .milliseconds(300)).isEmpty, "each message once")
        await cluster.stop()
    }

    @Test func twentyClientsOnTwoNodesPublishingAtOnceAllSeeOneGaplessSequence() async throws {
        let cluster = try TestCluster()
        let nodes = [try await cluster.startNode("n_a"), try await cluster.startNode("n_b")]
        var clients: [TestClient] = []
        for index in 0..<20 {
            let client = try await nodes[index % 2].connect("u\(index)")
            try await client.ok("join", [("channel", "busy")])
            clients.append(client)
        }
        let perClient = 10
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, client) in clients.enumerated() {
                group.addTask {
                    for round in 0..<perClient {
                        try await client.ok(
                            "publish", [("channel", "busy"), ("body", .string("u\(index)-\(round)"))], timeout: .seconds(60))
                    }
                }
            }
            try await group.waitForAll()
        }
        let total = 20 * perClient
        var sequences: [[JSONValue]] = []
        for client in clients {
            sequences.append(try await client.messages(total, in: "busy", timeout: .seconds(60)))
        }
        for (index, sequence) in sequences.enumerated() {
            #expect(sequence.seqs == Array(1...Int64(total)), "client u\(index) on node \(index % 2)")
            #expect(sequence.map { $0["id"] } == sequences[0].map { $0["id"] })
        }
        #expect(Set(sequences[0].compactMap { $0["body"]?.stringValue }).count == total)
        for client in clients {
            #expect(await client.collect(type: "message", for: .milliseconds(100)).isEmpty)
        }
        await cluster.stop()
    }

    @Test func anAnnouncementFromAReachesUsersOnBAndTheirAcksShowInTheAuthorsStatsOnA() async throws {
        let cluster = try TestCluster()
        let a = try await cluster.startNode("n_a")
        let b = try await cluster.startNode("n_b")
        let kari = try await b.connect("kari")
        let ola = try await b.connect("ola")
        let leader = try await a.connect("boss", roles: ["leader"])
        // Kari and Ola are online on B only; A learns it over the bus.
        _ = try await leader.ok("join", [("channel", "staff")])
        try await kari.ok("join", [("channel", "staff")])
        try await ola.ok("join", [("channel", "staff")])
        _ = try await leader.presence(of: "staff") { $0.presenceIDs == ["boss", "kari", "ola"] }

        let reply = try await leader.ok(
            "announce",
            [("title", "Fire drill"), ("body", "At two."), ("audience", ["all": true]), ("require_ack", true)])
        let id = try #require(reply.at("announcement", "id"))
        #expect(reply.at("announcement", "audience_count") == .int(2))
        for client in [kari, ola] {
            let event = try await client.next(type: "announcement")
            #expect(event["id"] == id)
        }
        try await kari.ok("ack", [("announcement_id", id), ("kind", "ack")])
        try await ola.ok("ack", [("announcement_id", id), ("kind", "ack")])
        let stats = try await leader.next {
            $0["type"] == "announcement_stats" && $0["id"] == id && $0["acked"] == .int(2)
        }
        #expect(stats["audience"] == .int(2))
        #expect(stats["delivered"] == .int(2))
        #expect(stats["read"] == .int(2))
        await cluster.stop()
    }

    @Test func presenceCrossesNodesAndANodeThatStopsTakesItsUsersWithIt() async throws {
        // A node timeout far longer than this test waits for anything: a leave seen at all
        // can only have come from the stopping node itself, not from the timeout.
        let cluster = try TestCluster(nodeTimeoutMillis: 300_000)
        let a = try await cluster.startNode("n_a")
        let b = try await cluster.startNode("n_b")
        let ola = try await b.connect("ola", name: "Ola")
        try await ola.ok("join", [("channel", "general")])
        let kari = try await a.connect("kari", name: "Kari")
        try await kari.ok("join", [("channel", "general")])
        // Diffs are drained every 100 ms, so Ola's own join may share this one.
        let diff = try await ola.next {
            $0["type"] == "presence_diff"
                && $0["joins"]?.arrayValue?.contains { $0["id"] == "kari" } == true
        }
        let joined = diff["joins"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(joined == ["kari"] || joined == ["kari", "ola"])
        #expect(diff["leaves"]?.arrayValue?.isEmpty == true)
        let atB = try await ola.presence(of: "general") { $0.presenceIDs == ["kari", "ola"] }
        #expect(atB["presence_count"] == .int(2))
        // A sees Ola, who is connected to B only.
        let atA = try await kari.presence(of: "general") { $0.presenceIDs == ["kari", "ola"] }
        #expect(atA["presence_count"] == .int(2))
        let members = try await ola.ok("members", [("channel", "general")])
        #expect(members["members"]?.arrayValue?.first { $0["id"] == "kari" }?["online"] == true)

        // A node that stops gracefully closes Kari's socket and tells B at once: B drops
        // Kari without waiting for the node timeout (five minutes, far beyond this wait).
        await cluster.stop(a)
        let left = try await ola.next(timeout: .seconds(60)) {
            $0["type"] == "presence_diff" && $0["leaves"]?.arrayValue?.first?["id"] == "kari"
        }
        #expect(left["presence_count"] == .int(1))
        _ = try await ola.presence(of: "general") { $0.presenceIDs == ["ola"] }
        await cluster.stop()
    }

    @Test(.enabled(if: TestCluster.binary != nil, "needs the dugnad binary: run swift build first"))
    func aKilledNodesUsersGoOfflineAfterTheNodeTimeoutAndItsClientsRecoverOnTheOtherNode() async throws {
        let cluster = try TestCluster(nodeTimeoutMillis: 3_000)
        let b = try await cluster.startNode("n_b")
        let a = try await cluster.spawnNode("n_a")
        let ola = try await b.connect("ola", name: "Ola")
        try await ola.ok("join", [("channel", "general")])
        var kari = try await TestCluster.connect(port: a.port, "kari", name: "Kari")
        let joined = try await kari.ok("join", [("channel", "general")])
        let epoch = try #require(joined.at("channel", "epoch"))
        _ = try await ola.presence(of: "general") { $0.presenceIDs == ["kari", "ola"] }

        for index in 1...3 {
            try await ola.ok("publish", [("channel", "general"), ("body", .string("before \(index)"))])
        }
        try await kari.ok("publish", [("channel", "general"), ("body", "from A")])
        let seenByKari = try await kari.messages(4, in: "general")
        #expect(seenByKari.seqs == [1, 2, 3, 4])
        let lastSeen = try #require(seenByKari.last?["seq"])

        await a.kill()
        // While A is dead and Kari is away, B goes on.
        for index in 1...5 {
            try await ola.ok("publish", [("channel", "general"), ("body", .string("while away \(index)"))])
        }
        // A killed node says nothing: B forgets it once it has been silent for the node
        // timeout (3 s). Waited for with a bound twenty times that.
        let left = try await ola.next(timeout: .seconds(60)) {
            $0["type"] == "presence_diff" && $0["leaves"]?.arrayValue?.first?["id"] == "kari"
        }
        #expect(left["channel"] == "general")
        let members = try await ola.ok("members", [("channel", "general")])
        #expect(members["members"]?.arrayValue?.first { $0["id"] == "kari" }?["online"] == false)

        // Storage agrees: A is no longer alive and its sessions are closed.
        try await waitUntil(timeout: .seconds(60)) {
            try cluster.inspect { store in
                let live = try store.liveNodeIDs(now: WallClock.nowMillis(), timeoutMillis: 3_000)
                let open = try cluster.openSessions(of: "n_a", in: store)
                return live == ["n_b"] && open == 0
            }
        }

        // Kari's client reconnects through the load balancer, to B, and misses nothing.
        await kari.close()
        kari = try await b.connect("kari", name: "Kari")
        let recovered = try await kari.ok("join", [("channel", "general"), ("since", lastSeen), ("epoch", epoch)])
        #expect(recovered["recovered"] == true)
        #expect(recovered["truncated"] == false)
        let missed = recovered["messages"]?.arrayValue ?? []
        #expect(missed.seqs == [5, 6, 7, 8, 9])
        #expect(missed.first?["body"] == "while away 1")
        try await ola.ok("publish", [("channel", "general"), ("body", "welcome back")])
        #expect(try await kari.messages(1, in: "general").seqs == [10])
        await cluster.stop()
    }

    /// Polls `condition` until it holds or the time is up (then fails).
    private func waitUntil(timeout: Duration, _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !(try condition()) {
            guard ContinuousClock.now < deadline else { throw TestFailure("condition not met within \(timeout)") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
