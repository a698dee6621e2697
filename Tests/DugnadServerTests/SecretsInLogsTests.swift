import DugnadTestSupport
import DugnadCore
import DugnadProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

/// Tokens and API keys never reach the logs: every credential path (accepted, refused,
/// expired, revoked; query string, first frame, HTTP bearer) is exercised with the
/// server logging at trace level, and no captured line holds a credential or any of its
/// signature.
@Suite struct SecretsInLogsTests {
    @Test func noCredentialEverAppearsInTheLogs() async throws {
        let capture = LogCapture()
        var logger = Logger(label: "dugnad-test") { label in capture.handler(label: label) }
        logger.logLevel = .trace
        let hub = try await TestHub.start(logger: logger)
        var secrets: [String] = []

        // A valid token, by query string and by first frame.
        let valid = try await TestHub.token("kari")
        secrets.append(valid)
        let byQuery = try await hub.rawConnect(path: "/ws?token=\(valid)")
        _ = try await byQuery.next(type: "welcome")
        let byFrame = try await hub.rawConnect()
        try await byFrame.send("auth", [("token", .string(valid))])
        _ = try await byFrame.next(type: "welcome")
        try await byFrame.ok("join", [("channel", "general")])
        // A refresh carries a token too.
        let refreshed = try await TestHub.token("kari", ttl: 7200)
        secrets.append(refreshed)
        try await byFrame.ok("refresh", [("token", .string(refreshed))])

        // A forged token (valid shape, wrong signature) and an expired one: refused, logged.
        let forged = valid.dropLast(6) + "AAAAAA"
        secrets.append(String(forged))
        let expired = try await TestHub.token("ola", ttl: -120)
        secrets.append(expired)
        for token in [String(forged), expired] {
            let refused = try await hub.rawConnect(path: "/ws?token=\(token)")
            #expect(try await refused.closed().code == CloseCode.unauthorized.rawValue)
        }

        // API keys: one that works over HTTP and WebSocket, one that never existed, one revoked.
        let (key, record) = APIKeys.make(name: "it-bot", scopes: ["publish"], channels: [], now: WallClock.nowMillis())
        let (revokedKey, revokedRecord) = APIKeys.make(
            name: "old-bot", scopes: ["publish"], channels: [], now: WallClock.nowMillis())
        _ = try hub.app.hub.store.write([.createAPIKey(record), .createAPIKey(revokedRecord)])
        _ = try hub.app.hub.store.write([.revokeAPIKey(idOrName: "old-bot", at: WallClock.nowMillis())])
        let unknownKey = "dgn_" + String(repeating: "q", count: 43)
        secrets += [key, revokedKey, unknownKey]
        let posted = try await RawHTTP.json(
            port: hub.port, "POST", "/api/v1/channels/general/messages", token: key, body: #"{"body":"from the bot"}"#)
        #expect(posted.status == 200 || posted.status == 201)
        for bad in [revokedKey, unknownKey, String(forged)] {
            let refused = try await RawHTTP.json(
                port: hub.port, "POST", "/api/v1/channels/general/messages", token: bad, body: #"{"body":"x"}"#)
            #expect(refused.status == 401)
        }
        let botSocket = try await hub.rawConnect(path: "/ws?token=\(key)")
        _ = try await botSocket.next(type: "welcome")

        await byQuery.close()
        await byFrame.close()
        await botSocket.close()
        await hub.stop()

        let lines = capture.lines
        // The capture works and the refusals were logged (without what was refused).
        #expect(lines.filter { $0.contains("credentials refused") }.count >= 5, "refusals not logged: \(lines)")
        for secret in secrets {
            // The whole credential, and its last part alone (a JWT's signature, a key's secret).
            let tail = String(secret.suffix(20))
            let leaked = lines.filter { $0.contains(secret) || $0.contains(tail) }
            #expect(leaked.isEmpty, "a credential was logged: \(leaked)")
        }
    }
}

/// Every log line of a logger, with its metadata, kept in memory.
final class LogCapture: Sendable {
    private let stored = NIOLockedValueBox<[String]>([])

    var lines: [String] { stored.withLockedValue { $0 } }

    func handler(label: String) -> CapturingLogHandler {
        CapturingLogHandler(capture: self)
    }

    fileprivate func append(_ line: String) {
        stored.withLockedValue { $0.append(line) }
    }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.append("\(event.level) \(event.message) \(all) \(event.source) \(event.file):\(event.line)")
    }
}
