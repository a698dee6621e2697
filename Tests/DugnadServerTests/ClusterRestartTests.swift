import DugnadCore
import DugnadProtocol
import DugnadTestSupport
import Foundation
import Testing

/// Two nodes while their PostgreSQL server stops and starts again. This stops the real
/// server, so it runs only when `DUGNAD_TEST_POSTGRES_CONTROL` names `scripts/postgres`,
/// and then alone, never beside other PostgreSQL tests:
///
///     export DUGNAD_PG_PORT=55433
///     DUGNAD_TEST_POSTGRES_URL=$(scripts/postgres start) DUGNAD_TEST_POSTGRES_CONTROL=$PWD/scripts/postgres \
///         swift test --filter ClusterRestartTests
///
/// (`scripts/postgres` finds the server by `DUGNAD_PG_PORT`, which must be the port of
/// the URL.)
@Suite(
    .serialized,
    .enabled(if: TestCluster.isConfigured, "needs a PostgreSQL server: set DUGNAD_TEST_POSTGRES_URL"),
    .enabled(
        if: PostgresControl.script != nil,
        "stops the PostgreSQL server: set DUGNAD_TEST_POSTGRES_CONTROL=scripts/postgres and run this suite alone")
)
struct ClusterRestartTests {
    @Test func bothNodesRecoverFromARestartAndNothingAcknowledgedIsLost() async throws {
        let cluster = try TestCluster()
        let a = try await cluster.startNode("n_a")
        let b = try await cluster.startNode("n_b")
        let kari = try await a.connect("kari")
        let ola = try await b.connect("ola")
        try await kari.ok("join", [("channel", "general")])
        try await ola.ok("join", [("channel", "general")])
        var acknowledged: [JSONValue] = []
        for index in 1...3 {
            acknowledged.append(try await kari.ok("publish", [("channel", "general"), ("body", .string("before \(index)"))]))
        }
        #expect(try await ola.messages(3, in: "general").seqs == [1, 2, 3])
        #expect(try await kari.messages(3, in: "general").seqs == [1, 2, 3])

        try PostgresControl.run("stop")
        var started = false
        defer { if !started { try? PostgresControl.run("start") } }
        for node in [a, b] {
            try await waitForReadiness(node, ready: false, within: .seconds(60))
        }
        let refused = try await kari.request(
            "publish", [("channel", "general"), ("body", "while down"), ("client_id", "down-1")], timeout: .seconds(90))
        #expect(refused["ok"] == false, "nothing can be stored while the server is down")

        try PostgresControl.run("start")
        started = true
        for node in [a, b] {
            try await waitForReadiness(node, ready: true, within: .seconds(120))
        }
        // Both nodes publish again (retrying a refusal, as clients do, with the same client_id).
        for index in 1...4 {
            let publisher = index % 2 == 0 ? ola : kari
            acknowledged.append(
                try await publishRetrying(
                    publisher,
                    [("channel", "general"), ("body", .string("after \(index)")), ("client_id", .string("after-\(index)"))]
                ))
        }
        let ids = acknowledged.compactMap { $0.at("message", "id") }
        let seqs = acknowledged.compactMap { $0.at("message", "seq")?.int64Value }
        let lastSeq = try #require(seqs.max())
        for (name, client) in [("kari", kari), ("ola", ola)] {
            let seen = try await client.messages(Int(lastSeq) - 3, in: "general")
            let seqs = seen.seqs
            #expect(seqs == Array(4...lastSeq), "\(name) sees every message after the restart once, in order")
            for id in ids.dropFirst(3) {
                #expect(seen.contains { $0["id"] == id }, "\(name) saw acknowledged message \(id)")
            }
        }
        let history = try await ola.ok("history", [("channel", "general"), ("limit", 50)])
        let stored = history["messages"]?.arrayValue ?? []
        #expect(stored.seqs == Array(1...lastSeq), "gapless")
        for id in ids {
            #expect(stored.contains { $0["id"] == id }, "acknowledged message \(id) is stored")
        }
        await cluster.stop()
    }

    private func publishRetrying(_ client: TestClient, _ fields: [(String, JSONValue)]) async throws -> JSONValue {
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            let reply = try await client.request("publish", fields, timeout: .seconds(90))
            if reply["ok"] == true { return reply }
            guard ContinuousClock.now < deadline else { throw TestFailure("publish kept failing: \(reply.jsonString())") }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    private func waitForReadiness(_ node: TestHub, ready: Bool, within timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let status = try await RawHTTP.get(port: node.port, "/readyz").status
            if (status == 200) == ready { return }
            guard ContinuousClock.now < deadline else {
                throw TestFailure("/readyz stayed \(status), wanted \(ready ? "ready" : "not ready")")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}
