import DugnadCore
import DugnadProtocol
import Foundation
import Testing

/// Governance across nodes: an admin's action on one node takes effect on the open
/// connections of every other node (each reads the audit log every 500 ms). Needs
/// `DUGNAD_TEST_POSTGRES_URL`, like MultiNodeTests.
@Suite(
    .serialized,
    .enabled(
        if: TestCluster.isConfigured,
        "needs a PostgreSQL server: run scripts/postgres start and set DUGNAD_TEST_POSTGRES_URL to the URL it prints")
)
struct MultiNodeGovernanceTests {
    @Test func aRemovalAndABanOnNodeAReachConnectionsOnNodeB() async throws {
        let cluster = try TestCluster()
        let a = try await cluster.startNode("n_a")
        let b = try await cluster.startNode("n_b")
        let admin = try await TestHub.token("boss", roles: ["admin"])
        let created = try await RawHTTP.json(
            port: a.port, "POST", "/api/v1/channels", token: admin, body: #"{"name":"board","kind":"private"}"#)
        #expect(created.status == 201)
        let granted = try await RawHTTP.json(port: a.port, "PUT", "/api/v1/channels/board/members/ola", token: admin)
        #expect(granted.status == 201)

        // Ola is on node B; the grant made on node A lets her in there.
        let ola = try await b.connect("ola")
        try await ola.ok("join", [("channel", "board")])
        try await ola.ok("join", [("channel", "general")])
        let removed = try await RawHTTP.json(port: a.port, "DELETE", "/api/v1/channels/board/members/ola", token: admin)
        #expect(removed.status == 204)
        let event = try await ola.next(type: "removed", timeout: .seconds(30))
        #expect(event["channel"] == "board")
        #expect(event["reason"] == "removed_by_admin")
        #expect(try await ola.request("history", [("channel", "board")]).at("error", "code") == "forbidden")

        let banned = try await RawHTTP.json(port: a.port, "POST", "/api/v1/users/ola/ban", token: admin)
        #expect(banned.status == 200)
        let closed = try await ola.closed(timeout: .seconds(30))
        #expect(closed.code == 4500)
        #expect(closed.reason == "banned")
        let again = try await b.rawConnect(path: "/ws?token=\(try await TestHub.token("ola"))")
        #expect(try await again.closed(timeout: .seconds(30)).code == 4500)
        await cluster.stop()
    }
}
