import DugnadCore
import DugnadProtocol
import Foundation
import Testing

/// Edits, deletions and mentions across nodes on one PostgreSQL database: their events go
/// through the bus like a message's. Skipped without `DUGNAD_TEST_POSTGRES_URL`.
@Suite(
    .serialized,
    .enabled(
        if: TestCluster.isConfigured,
        "needs a PostgreSQL server: run scripts/postgres start and set DUGNAD_TEST_POSTGRES_URL to the URL it prints")
)
struct MultiNodeEditTests {
    @Test func editsDeletionsAndMentionsMadeOnOneNodeReachTheOther() async throws {
        let cluster = try TestCluster()
        let a = try await cluster.startNode("n_a")
        let b = try await cluster.startNode("n_b")
        let kari = try await a.connect("kari")
        let ola = try await b.connect("ola")
        let olaUnsubscribed = try await a.connect("ola")
        try await kari.ok("join", [("channel", "kaffe")])
        try await ola.ok("join", [("channel", "kaffe")])

        let published = try await kari.ok("publish", [("channel", "kaffe"), ("body", "kaffe?")])
        let id = published.at("message", "id") ?? .null
        try await kari.ok("edit", [("message_id", id), ("body", "kaffe, @ola?")])
        let edited = try await ola.next(type: "message_edited")
        #expect(edited["body"] == "kaffe, @ola?")
        for connection in [ola, olaUnsubscribed] {
            let mention = try await connection.next(type: "mention")
            #expect(mention.at("message", "id") == id)
        }

        // Ola on node B cannot delete Kari's message; Kari deletes it there, and A hears.
        let kariOnB = try await b.connect("kari")
        let refused = try await ola.request("delete", [("message_id", id)])
        #expect(refused.at("error", "code") == "forbidden")
        try await kariOnB.ok("delete", [("message_id", id)])
        let deleted = try await kari.next(type: "message_deleted")
        #expect(deleted["id"] == id)
        let history = try await kari.ok("history", [("channel", "kaffe")])
        #expect(history["messages"]?.arrayValue?.first?["deleted"] == .bool(true))
        await cluster.stop()
    }
}
