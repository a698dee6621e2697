import DugnadCore
import DugnadProtocol
import Testing

/// Every device in step: when a person reads or acknowledges an announcement on one
/// device, the person's other connections get `announcement_receipt`.
@Suite struct AnnouncementReceiptEventTests {
    @Test func aReadAndAnAckOnOneDeviceReachTheOther() async throws {
        let hub = try await TestHub.start()
        let boss = try await hub.connect("boss", roles: ["leader"])
        let laptop = try await hub.connect("kari")
        let phone = try await hub.connect("kari")
        let other = try await hub.connect("ola")
        let posted = try await boss.ok(
            "announce",
            [("title", "Brannøvelse"), ("body", "Torsdag kl. 10"), ("audience", ["all": true]), ("require_ack", true)])
        let id = try #require(posted.at("announcement", "id")?.stringValue)

        try await laptop.ok("ack", [("announcement_id", .string(id)), ("kind", "read")])
        let read = try await phone.next(type: "announcement_receipt")
        #expect(read["id"] == .string(id))
        #expect(read["kind"] == "read")
        try await laptop.ok("ack", [("announcement_id", .string(id)), ("kind", "ack")])
        let acked = try await phone.next { $0["type"] == "announcement_receipt" && $0["kind"] == "ack" }
        #expect(acked["id"] == .string(id))

        // Repeating an ack changes nothing, so nothing is sent; nobody else hears of it.
        try await laptop.ok("ack", [("announcement_id", .string(id)), ("kind", "ack")])
        try await other.ok("ack", [("announcement_id", .string(id)), ("kind", "read")])
        #expect(await phone.collect(type: "announcement_receipt", for: .milliseconds(300)).isEmpty)
        #expect(await boss.collect(type: "announcement_receipt", for: .milliseconds(50)).isEmpty)
        await hub.stop()
    }
}
