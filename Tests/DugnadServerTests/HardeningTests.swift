import DugnadTestSupport
import DugnadProtocol
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// Abuse a single client can attempt without any credentials or with one account: a
/// slowloris request head, too many sockets of one user, too many from one address.
/// Flooding with commands (rate_limited, then 4029) is
/// `BadInputTests.aClientThatFloodsIsRateLimitedThenClosedWith4029`; 1,000 slow consumers
/// and the hub's memory are `scripts/flood-test`.
@Suite struct HardeningTests {
    @Test func aSlowlorisClientIsCutOffAfterTheHeaderTimeout() async throws {
        let hub = try await TestHub.start { $0.headerTimeoutSeconds = 2 }
        // Counted from before the connect: the server's timer starts at accept, after it,
        // so the cut-off cannot come earlier than the timeout by this clock, however slowly
        // a loaded machine completes the connect.
        let started = ContinuousClock.now
        let socket = try await RawSocket.connect(port: hub.port)
        // About 630 bytes: at least 63 seconds to dribble, thirty times the 2-second timeout,
        // so a cut-off that comes seconds late on a loaded machine is still a cut-off. The
        // deadline's exact moment is `ConnectionAdmissionHandlerTests`', on virtual time.
        let padding = "X-Padding: " + String(repeating: "a", count: 550) + "\r\n"
        let head = Array(
            ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + padding).utf8)
        // One byte every 100 ms: each byte is progress, none completes the head.
        var sent = 0
        for byte in head {
            guard socket.isOpen else { break }
            try? await socket.write([byte])
            sent += 1
            try await Task.sleep(for: .milliseconds(100))
        }
        try await socket.waitClosed(timeout: .seconds(30))
        let elapsed = ContinuousClock.now - started
        #expect(sent < head.count, "the server waited for the whole dribbled head (\(sent) bytes)")
        #expect(elapsed >= .milliseconds(1_950), "closed before the header timeout: \(elapsed)")
        // Nothing was answered: the request never completed.
        #expect(socket.received.isEmpty)
        // A client that sends its head in time is served as usual, on the same hub. In one
        // write, but with this test's 2-second header timeout a loop seconds late (the suite
        // beside builds) can still cut it off: three tries in a row were once cut off in the
        // PostgreSQL suite beside two CPU burners, so up to twenty (each ends within seconds).
        var status = 0
        for _ in 1...20 where status != 200 {
            status = (try? await RawHTTP.get(port: hub.port, "/healthz").status) ?? 0
        }
        #expect(status == 200)
        await hub.stop()
    }

    @Test func aCompleteHeadBeforeTheTimeoutIsServedEvenIfSlow() async throws {
        // Four pieces 100 ms apart, far inside the timeout even on a loaded machine (the full
        // test suite runs in parallel beside builds). Where the head's end may fall across
        // reads is `ConnectionAdmissionHandlerTests`'; here it is the real socket.
        // 120 s, as every test hub's: on a machine at load 10 these four pieces once took
        // longer than 30 s to go out, and the hub rightly closed the connection.
        let hub = try await TestHub.start { $0.headerTimeoutSeconds = 120 }
        let socket = try await RawSocket.connect(port: hub.port)
        for chunk in ["GET /healthz HTTP/1.1\r\n", "Host: 127.0.0.1\r\n", "Connection: close\r\n", "\r\n"] {
            try await socket.write(Array(chunk.utf8))
            try await Task.sleep(for: .milliseconds(100))
        }
        try await socket.waitClosed(timeout: .seconds(120))
        #expect(String(decoding: socket.received, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        await hub.stop()
    }

    @Test func aUserBeyondItsConnectionLimitIsClosedWith4029() async throws {
        let hub = try await TestHub.start { $0.maxConnectionsPerUser = 2 }
        let first = try await hub.connect("kari")
        let second = try await hub.connect("kari")
        let token = try await TestHub.token("kari")
        let third = try await hub.rawConnect(path: "/ws?token=\(token)")
        let (code, reason) = try await third.closed()
        #expect(code == 4029)
        #expect(reason == "too_many_connections")
        // Other users are not affected.
        let ola = try await hub.connect("ola")
        try await ola.ok("ping")
        // The two that were in stay usable; once one leaves, kari may connect again.
        try await first.ok("ping")
        try await second.ok("ping")
        await second.close()
        // Once the hub is done with the second (and the refused third): first and ola remain.
        try await hub.waitForConnections(2)
        let again = try await hub.connect("kari")
        #expect(again.welcome.at("user", "id") == "kari", "a slot freed by a close is given back")
        try await again.ok("ping")
        await first.close()
        await again.close()
        await ola.close()
        await hub.stop()
    }

    @Test func concurrentConnectionsOfOneUserDoNotSlipPastItsLimit() async throws {
        let hub = try await TestHub.start { $0.maxConnectionsPerUser = 2 }
        let token = try await TestHub.token("kari")
        let port = hub.port
        // The slot is reserved under the presence lock before the session opens, so
        // simultaneous connections cannot all pass the check.
        for round in 1...5 {
            // Each connection's outcome is waited for: a welcome, or a close before any.
            let outcomes = try await withThrowingTaskGroup(of: (TestClient, UInt16?).self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        let client = try await TestClient(
                            WebSocketClient.connect(host: "127.0.0.1", port: port, path: "/ws?token=\(token)"))
                        do {
                            _ = try await client.next(type: "welcome")
                            return (client, nil)
                        } catch let closed as WebSocketClientClosed {
                            return (client, closed.code)
                        }
                    }
                }
                var all: [(TestClient, UInt16?)] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            let refusals = outcomes.compactMap(\.1)
            // With none of kari's connections left from the round before, exactly the limit gets in.
            #expect(outcomes.count - refusals.count == 2, "round \(round): \(refusals.count) of 10 refused, limit 2")
            #expect(refusals.allSatisfy { $0 == 4029 }, "round \(round): \(refusals)")
            // A welcomed connection is not closed after all.
            for (client, refusal) in outcomes where refusal == nil {
                #expect((try? await client.closed(timeout: .milliseconds(300))) == nil)
            }
            for (client, _) in outcomes { await client.close() }
            try await hub.waitForConnections(0)
        }
        await hub.stop()
    }

    @Test func anAddressBeyondItsConnectionLimitGetsHTTP429() async throws {
        let hub = try await TestHub.start { $0.maxConnectionsPerAddress = 3 }
        var held: [TestClient] = []
        for name in ["kari", "ola", "per"] { held.append(try await hub.connect(name)) }
        // The hub answers before reading the request, so the request may meet a closed socket.
        let refused = try await RawSocket.connect(port: hub.port)
        try? await refused.write(Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        try await refused.waitClosed(timeout: .seconds(30))
        let answer = String(decoding: refused.received, as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 429"), "got \(answer.prefix(40))")
        // A WebSocket upgrade from the same address is refused the same way, before any parsing.
        let token = try await TestHub.token("siri")
        await #expect(throws: (any Error).self) {
            _ = try await hub.rawConnect(path: "/ws?token=\(token)")
        }
        // The held connections keep working, and a freed slot is given back.
        try await held[0].ok("ping")
        await held[2].close()
        // The slot comes back when the hub has closed its side: until then a request is refused.
        var status = 0
        let deadline = ContinuousClock.now + TestClient.eventTimeout
        while status != 200, ContinuousClock.now < deadline {
            status = (try? await RawHTTP.get(port: hub.port, "/healthz").status) ?? 0
            if status != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(status == 200)
        await held[0].close()
        await held[1].close()
        await hub.stop()
    }
}

/// A bare TCP connection: writes exactly what it is given, collects what comes back, and
/// tells when the server closed it.
final class RawSocket: Sendable {
    private let channel: any Channel
    private let collected: NIOLockedValueBox<[UInt8]>
    private let closed: NIOLockedValueBox<Bool>

    private init(channel: any Channel, collected: NIOLockedValueBox<[UInt8]>, closed: NIOLockedValueBox<Bool>) {
        self.channel = channel
        self.collected = collected
        self.closed = closed
    }

    static func connect(port: Int) async throws -> RawSocket {
        let collected = NIOLockedValueBox<[UInt8]>([])
        let closed = NIOLockedValueBox(false)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(collected: collected, closed: closed))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawSocket(channel: channel, collected: collected, closed: closed)
    }

    var isOpen: Bool { channel.isActive }
    var received: [UInt8] { collected.withLockedValue { $0 } }

    func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Waits until the server closes the connection; throws on timeout (and closes it).
    func waitClosed(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if closed.withLockedValue({ $0 }) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        try? await channel.close()
        throw TestFailure("the server did not close the connection within \(timeout)")
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let collected: NIOLockedValueBox<[UInt8]>
        let closed: NIOLockedValueBox<Bool>

        init(collected: NIOLockedValueBox<[UInt8]>, closed: NIOLockedValueBox<Bool>) {
            self.collected = collected
            self.closed = closed
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            collected.withLockedValue { $0.append(contentsOf: buffer.readableBytesView) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed.withLockedValue { $0 = true }
            context.fireChannelInactive()
        }
    }
}
