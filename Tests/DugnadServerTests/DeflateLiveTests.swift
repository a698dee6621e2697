import DugnadProtocol
import DugnadTestSupport
import Testing

/// permessage-deflate on a real hub with real clients: a client that offers it gets
/// another client's publish as a compressed frame (and reads it back whole), while a
/// client in the same channel that did not offer it gets the same message plain.
@Suite struct DeflateLiveTests {
    private static let longBody = String(repeating: "Kaffe og boller i fjerde etasje klokka to. ", count: 20)

    @Test func aDeflateClientGetsCompressedFanOutAndAPlainClientInTheSameChannelGetsPlainFrames() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari", deflate: true)
        let ola = try await hub.connect("ola", deflate: true)
        let per = try await hub.connect("per")
        #expect(kari.socket.negotiatedExtensions == "permessage-deflate; server_no_context_takeover")
        #expect(per.socket.negotiatedExtensions == nil)
        for client in [kari, ola, per] { try await client.ok("join", [("channel", "general")]) }
        let kariBefore = kari.socket.compressedMessagesReceived

        // Ola publishes compressed too: the hub inflates it before it reads the command.
        try await ola.ok("publish", [("channel", "general"), ("body", .string(Self.longBody))])
        let atKari = try await kari.next(type: "message")
        let atPer = try await per.next(type: "message")
        #expect(atKari["body"] == .string(Self.longBody))
        #expect(atPer["body"] == .string(Self.longBody))
        #expect(kari.socket.compressedMessagesReceived > kariBefore, "the message came compressed")
        #expect(per.socket.compressedMessagesReceived == 0, "a client without deflate never gets RSV1")
        #expect(kari.socket.connectionError == nil)
        #expect(per.socket.connectionError == nil)

        for client in [kari, ola, per] { await client.close() }
        await hub.stop()
    }

    @Test func aHubWithCompressionOffAgreesToNothing() async throws {
        let hub = try await TestHub.start { $0.permessageDeflate = false }
        let kari = try await hub.connect("kari", deflate: true)
        #expect(kari.socket.negotiatedExtensions == nil)
        try await kari.ok("join", [("channel", "general")])
        try await kari.ok("publish", [("channel", "general"), ("body", .string(Self.longBody))])
        #expect(kari.socket.compressedMessagesReceived == 0)
        await kari.close()
        await hub.stop()
    }
}
