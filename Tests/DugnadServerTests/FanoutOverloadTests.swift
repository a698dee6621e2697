import DugnadProtocol
import Testing

/// Fan-out under more load than one event loop can carry (issue 14): publishers are
/// slowed (`rate_limited` with `retry_after_ms`) rather than every subscriber lagging
/// without bound, subscribers that keep answering pings are not closed although the hub
/// is late with its own pings, and every accepted message reaches every subscriber.
/// Waits for events only: how much gets refused depends on the machine, and is not
/// asserted.
@Suite struct FanoutOverloadTests {
    @Test func underOverloadNobodyAnsweringIsClosedAndEveryAcceptedMessageArrives() async throws {
        let hub = try await TestHub.start {
            $0.eventLoops = 1
            // Several ticks inside the overload, yet room for a test client that a machine
            // at load 10 leaves without CPU for two seconds (1 s once closed one with 1001).
            $0.pingInterval = 2
            $0.hub.publishRate = 1_000_000
            $0.hub.publishBurst = 1_000_000
            $0.hub.commandRate = 1_000_000
            $0.hub.commandBurst = 1_000_000
            // Low, so that a debug build on a busy machine meets it.
            $0.hub.fanoutMaxLagMillis = 20
            // Room for the whole flood per subscriber (3 MB): this test is about liveness and
            // back-pressure; a reader this process starves past 1 MiB is a slow consumer,
            // closed with 4008 by design (BadInputTests.aSlowConsumerIsClosedWith4008…), not what is asked here.
            $0.outboundLimitBytes = 16 << 20
        }
        let subscriberCount = 20
        var subscribers: [TestClient] = []
        for index in 0..<subscriberCount {
            let client = try await hub.connect("reader\(index)")
            try await client.ok("join", [("channel", "general")])
            subscribers.append(client)
        }
        let publisher = try await hub.connect("writer")
        try await publisher.ok("join", [("channel", "general")])

        // Each subscriber reads until the publisher's last message, counting what came.
        let readers = subscribers.map { client in
            Task { () throws -> [Int64] in
                var seqs: [Int64] = []
                while true {
                    let event = try await client.next(type: "message", timeout: .seconds(120))
                    if let seq = event["seq"]?.int64Value { seqs.append(seq) }
                    if event["body"] == "last" { return seqs }
                }
            }
        }

        // 1,500 publishes of 2 KB, none waited for: far more than the loop writes at once.
        let body = JSONValue.string(String(repeating: "x", count: 2_000))
        let floodCount = 1_500
        for ref in 1...floodCount {
            try await publisher.send("publish", [("ref", .int(Int64(ref))), ("channel", "general"), ("body", body)])
        }
        var accepted = 0
        var slowed = 0
        for _ in 1...floodCount {
            let reply = try await publisher.next(type: "reply", timeout: .seconds(120))
            if reply["ok"] == true {
                accepted += 1
            } else {
                #expect(reply.at("error", "code") == "rate_limited", "\(reply.jsonString())")
                #expect((reply.at("error", "retry_after_ms")?.int64Value ?? 0) >= 50)
                slowed += 1
            }
        }
        #expect(accepted + slowed == floodCount)
        // The last one is retried until accepted, as a client told to wait does.
        while true {
            let reply = try await publisher.request("publish", [("channel", "general"), ("body", "last")], timeout: .seconds(120))
            if reply["ok"] == true { break }
            #expect(reply.at("error", "code") == "rate_limited")
            try await Task.sleep(for: .milliseconds(Int(reply.at("error", "retry_after_ms")?.int64Value ?? 100)))
        }

        for reader in readers {
            let seqs = try await reader.value
            #expect(seqs.count == accepted + 1, "every accepted message, and the last")
            #expect(seqs == Array(seqs.sorted()), "in order")
            #expect(Set(seqs).count == seqs.count, "once each")
        }
        // Still open after several ping intervals of overload: each answers a command.
        for client in subscribers + [publisher] {
            try await client.ok("ping")
        }
        await hub.stop()
    }
}
