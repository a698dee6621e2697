import DugnadProtocol
import DugnadServer
import DugnadTestSupport
import Foundation
import NIOSSL
import Testing

/// The hub serving HTTPS and `wss://` on its own port: certificates made in the test, real
/// TLS clients (swift-nio-ssl's, trusting only the test's certificate and checking its
/// name), what is refused at start, plain clients on the TLS port, and reloads.
@Suite struct TLSTests {
    /// A temporary folder with a fresh certificate and key in it.
    private struct Pair {
        let folder: String
        let certificate: TestCertificate
        let files: TLSFiles

        init(days: Int = 30) throws {
            folder = TestHub.temporaryDirectory()
            certificate = try TestCertificate(days: days)
            let paths = try certificate.write(to: folder, name: "hub")
            files = TLSFiles(certificatePath: paths.certificate, keyPath: paths.key)
        }

        func remove() { try? FileManager.default.removeItem(atPath: folder) }
    }

    private func startRefusal(_ files: TLSFiles) async throws -> TLSSetupError? {
        let data = TestHub.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        do {
            let hub = try await TestHub.start(dataDirectory: data) { $0.tls = files }
            await hub.stop()
            return nil
        } catch let error as TLSSetupError {
            return error
        }
    }

    @Test func httpsAndWSSServeARealTLSClient() async throws {
        let pair = try Pair()
        defer { pair.remove() }
        let hub = try await TestHub.start { $0.tls = pair.files }
        #expect(hub.app.servesTLS)
        let client = try pair.certificate.clientContext()

        let health = try await RawHTTP.get(port: hub.port, "/healthz", tls: client, serverHostname: "localhost")
        #expect(health.status == 200)

        // A page served over https: its origin is the hub's own.
        func connect(_ sub: String) async throws -> TestClient {
            let token = try await TestHub.token(sub)
            let socket = try await WebSocketClient.connect(
                host: "127.0.0.1", port: hub.port, path: "/ws?token=\(token)",
                headers: [("Origin", "https://127.0.0.1:\(hub.port)")], tls: client, serverHostname: "localhost")
            let connected = TestClient(socket)
            connected.welcome = try await connected.next(type: "welcome")
            return connected
        }
        let kari = try await connect("kari")
        let ola = try await connect("ola")
        #expect(kari.welcome.at("user", "id") == "kari")
        try await kari.ok("join", [("channel", "general")])
        try await ola.ok("join", [("channel", "general")])
        try await kari.ok("publish", [("channel", "general"), ("body", "over TLS")])
        let message = try await ola.next(type: "message")
        #expect(message["body"] == "over TLS")
        await kari.close()
        await ola.close()
        await hub.stop()
    }

    @Test func aPageOfThePlainHTTPOriginIsNotTheHubsOwnOnATLSPort() async throws {
        let pair = try Pair()
        defer { pair.remove() }
        let hub = try await TestHub.start { $0.tls = pair.files }
        let token = try await TestHub.token("kari")
        await #expect(throws: WebSocketUpgradeFailed.self) {
            _ = try await WebSocketClient.connect(
                host: "127.0.0.1", port: hub.port, path: "/ws?token=\(token)",
                headers: [("Origin", "http://127.0.0.1:\(hub.port)")], tls: try pair.certificate.clientContext(),
                serverHostname: "localhost")
        }
        await hub.stop()
    }

    @Test func anExpiredCertificateIsRefusedAtStartWithItsReason() async throws {
        let pair = try Pair(days: -1)
        defer { pair.remove() }
        let refusal = try await startRefusal(pair.files)
        #expect(refusal?.isExpired == true)
        #expect(refusal?.description.contains("expired on") == true, "\(String(describing: refusal))")
        #expect(refusal?.description.contains(pair.files.certificatePath) == true)
    }

    @Test func aKeyThatIsNotTheCertificatesIsRefusedAtStart() async throws {
        let pair = try Pair()
        let other = try Pair()
        defer {
            pair.remove()
            other.remove()
        }
        let refusal = try await startRefusal(TLSFiles(certificatePath: pair.files.certificatePath, keyPath: other.files.keyPath))
        #expect(refusal?.isKeyMismatch == true, "\(String(describing: refusal))")
        #expect(refusal?.description.contains("does not belong to the certificate") == true)
    }

    @Test func anUnreadableCertificateOrKeyIsRefusedAtStart() async throws {
        let pair = try Pair()
        defer { pair.remove() }
        let missing = pair.folder + "/missing.pem"
        let noCertificate = try await startRefusal(TLSFiles(certificatePath: missing, keyPath: pair.files.keyPath))
        #expect(noCertificate?.description == "cannot read the TLS certificate in \(missing): not a readable PEM file")
        let notAKey = pair.folder + "/not-a-key.pem"
        try Data("not a key\n".utf8).write(to: URL(fileURLWithPath: notAKey))
        let badKey = try await startRefusal(TLSFiles(certificatePath: pair.files.certificatePath, keyPath: notAKey))
        #expect(badKey?.description == "cannot read the TLS key in \(notAKey): not a readable PEM file")
    }

    @Test func plainHTTPAndPlainWebSocketsOnATLSPortAreClosedAndTheHubServesOn() async throws {
        let pair = try Pair()
        defer { pair.remove() }
        let hub = try await TestHub.start { $0.tls = pair.files }
        // RawHTTP returns once the hub has closed the connection: no HTTP answer comes back.
        let plain = try await RawHTTP.get(port: hub.port, "/healthz")
        #expect(plain.status == 0)
        await #expect(throws: (any Error).self) {
            _ = try await WebSocketClient.connect(host: "127.0.0.1", port: hub.port, path: "/ws")
        }
        let health = try await RawHTTP.get(
            port: hub.port, "/healthz", tls: try pair.certificate.clientContext(), serverHostname: "localhost")
        #expect(health.status == 200)
        await hub.stop()
    }

    @Test func aReloadServesTheNewPairToNewConnectionsAndABadOneKeepsTheLast() async throws {
        let first = try Pair()
        defer { first.remove() }
        let hub = try await TestHub.start { $0.tls = first.files }
        #expect(try await TLSProbe.servedCertificate(port: hub.port) == first.certificate.der)
        let token = try await TestHub.token("kari")
        let open = TestClient(
            try await WebSocketClient.connect(
                host: "127.0.0.1", port: hub.port, path: "/ws?token=\(token)", tls: try first.certificate.clientContext(),
                serverHostname: "localhost"))
        _ = try await open.next(type: "welcome")

        // A renewed pair written over the old files.
        let renewed = try TestCertificate()
        _ = try renewed.write(to: first.folder, name: "hub")
        try await hub.app.reloadCertificate()
        #expect(try await TLSProbe.servedCertificate(port: hub.port) == renewed.der)
        let health = try await RawHTTP.get(
            port: hub.port, "/healthz", tls: try renewed.clientContext(), serverHostname: "localhost")
        #expect(health.status == 200)
        try await open.ok("join", [("channel", "general")])  // an open connection keeps its session

        // A key that does not parse: refused, and the renewed pair serves on.
        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: first.files.keyPath))
        await #expect(throws: TLSSetupError.self) { try await hub.app.reloadCertificate() }
        #expect(try await TLSProbe.servedCertificate(port: hub.port) == renewed.der)

        // An expired pair: refused too.
        _ = try TestCertificate(days: -1).write(to: first.folder, name: "hub")
        do {
            try await hub.app.reloadCertificate()
            Issue.record("an expired certificate was loaded")
        } catch let error as TLSSetupError {
            #expect(error.isExpired)
        }
        #expect(try await TLSProbe.servedCertificate(port: hub.port) == renewed.der)
        await open.close()
        await hub.stop()
    }
}
