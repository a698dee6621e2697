import DugnadTestSupport
import DugnadProtocol
import Foundation
import Testing

/// HTTP endpoints, the web root, and shutdown.
@Suite struct LifecycleTests {
    @Test func healthReadinessAndMetricsAnswer() async throws {
        let hub = try await TestHub.start()
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "general")])
        try await kari.ok("publish", [("channel", "general"), ("body", "counted")])
        #expect(try await RawHTTP.get(port: hub.port, "/healthz").status == 200)
        #expect(try await RawHTTP.get(port: hub.port, "/readyz").status == 200)
        let metrics = try await RawHTTP.get(port: hub.port, "/metrics")
        #expect(metrics.status == 200)
        for name in [
            "dugnad_connections", "dugnad_joins_total 1", "dugnad_messages_in_total 1", "dugnad_messages_out_total 1",
            "dugnad_fanout_deliveries_total",
            "dugnad_publish_durable_seconds_bucket", "dugnad_write_batch_size",
        ] {
            #expect(metrics.body.contains(name), "metrics lack \(name)")
        }
        await hub.stop()
    }

    @Test func theWebClientIsServedAndNothingOutsideTheWebRootIs() async throws {
        let hub = try await TestHub.start()
        let index = try await RawHTTP.get(port: hub.port, "/")
        #expect(index.status == 200)
        #expect(index.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(index.body.contains("<html") || index.body.contains("<!doctype") || index.body.contains("<!DOCTYPE"))
        for path in [
            "/../Package.swift", "/%2e%2e/Package.swift", "/..%2fPackage.swift", "/%2e%2e%2fPackage.swift", "/.git/config",
        ] {
            let response = try await RawHTTP.get(port: hub.port, path)
            #expect(response.status == 404 || response.status == 400, "\(path) → \(response.status)")
            #expect(!response.body.contains("PackageDescription"))
        }
        let ws = try await RawHTTP.get(port: hub.port, "/ws")
        #expect(ws.status == 400)
        #expect(ws.body.contains("\"error\""))
        await hub.stop()
    }

    @Test func aPageFromAnotherSiteCannotOpenASocketButTheHubsOwnPageCan() async throws {
        let hub = try await TestHub.start()
        let token = try await TestHub.token("kari")
        do {
            _ = try await hub.rawConnect(path: "/ws?token=\(token)", headers: [("Origin", "https://evil.example")])
            Issue.record("a foreign origin was upgraded")
        } catch let error as WebSocketUpgradeFailed {
            #expect(error.status == 403)
        }
        let own = try await hub.rawConnect(
            path: "/ws?token=\(token)", headers: [("Origin", "http://127.0.0.1:\(hub.port)"), ("Host", "127.0.0.1:\(hub.port)")])
        #expect(try await own.next(type: "welcome").at("user", "id") == "kari")
        await hub.stop()

        let open = try await TestHub.start { $0.allowedOrigins = ["https://intranet.example"] }
        let listed = try await open.rawConnect(path: "/ws?token=\(token)", headers: [("Origin", "https://intranet.example")])
        #expect(try await listed.next(type: "welcome").at("user", "id") == "kari")
        await open.stop()
    }

    @Test func oversizedRequestHeadsAreRefused() async throws {
        let hub = try await TestHub.start()
        let huge = String(repeating: "a", count: 100_000)
        let response = try await RawHTTP.get(port: hub.port, "/healthz", headers: "X-Filler: \(huge)\r\n")
        #expect(response.status == 400 || response.status == 431 || response.status == 0, "got \(response.status)")
        #expect(try await RawHTTP.get(port: hub.port, "/healthz").status == 200, "the server still serves")
        await hub.stop()
    }

    @Test func shutdownClosesSocketsWith1001AndKeepsWhatWasAcknowledged() async throws {
        let directory = TestHub.temporaryDirectory()
        let hub = try await TestHub.start(dataDirectory: directory)
        let kari = try await hub.connect("kari")
        try await kari.ok("join", [("channel", "general")])
        for index in 1...10 {
            try await kari.ok("publish", [("channel", "general"), ("body", .string("n\(index)"))])
        }
        async let stopped: Void = hub.stop(keepData: true)
        let (code, _) = try await kari.closed()
        #expect(code == 1001)
        await stopped
        let again = try await TestHub.start(dataDirectory: directory)
        let client = try await again.connect("kari")
        let page = try await client.ok("history", [("channel", "general")])
        #expect(page["messages"]?.arrayValue?.seqs == Array(1...10))
        await again.stop()
    }
}
