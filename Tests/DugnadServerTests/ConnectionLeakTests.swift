import DugnadTestSupport
import DugnadProtocol
import Foundation
import Testing

/// A closed connection must leave nothing behind: its handler, session, pipeline and
/// channel are freed however it ended. (A handler that kept its `ChannelHandlerContext`
/// made a cycle that retained about 1.5 KB per connection for the life of the process.)
@Suite struct ConnectionLeakTests {
    @Test func everyConnectionHandlerIsFreedAfterItsConnectionEnds() async throws {
        let hub = try await TestHub.start()
        #expect(hub.app.liveHandlerCount == 0)

        // Ended by the client with a close handshake, after joining and publishing.
        for index in 0..<10 {
            let client = try await hub.connect("user\(index)")
            try await client.ok("join", [("channel", "general")])
            try await client.ok("publish", [("channel", "general"), ("body", .string("hello \(index)"))])
            await client.close()
        }
        // Ended by the server: a token it refuses.
        for _ in 0..<5 {
            let client = try await hub.rawConnect(path: "/ws?token=not-a-token")
            let closed = try await client.closed()
            #expect(closed.code == CloseCode.unauthorized.rawValue)
        }
        // Ended by the server: a frame that breaks RFC 6455 (unmasked from a client).
        for _ in 0..<5 {
            let client = try await hub.connect("breaker")
            try await client.socket.sendRaw([0x81, 0x02, 0x68, 0x69])
            let closed = try await client.closed()
            #expect(closed.code == 1002)
        }
        // Ended while still open, by the hub shutting down, is covered by the process
        // exiting; here every connection is already gone.
        try await hub.waitForConnections(0)
        let deadline = ContinuousClock.now + TestClient.eventTimeout
        while hub.app.liveHandlerCount > 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(hub.app.liveHandlerCount == 0, "handlers of closed connections still in memory")
        await hub.stop()
    }
}
