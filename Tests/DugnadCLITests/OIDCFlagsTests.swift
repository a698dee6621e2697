import Foundation
import Testing

/// `dugnad serve`'s `--oidc-*` flags: what it refuses to start with, and a client secret
/// that never reaches the log.
@Suite struct OIDCFlagsTests {
    @Test func unusableSignInFlagsRefuseToStart() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let data = command.folder.appendingPathComponent("data").path
        let issuer = ["--oidc-issuer", "https://login.example.test/realms/staff", "--oidc-client-id", "dugnad"]
        let cases: [([String], String)] = [
            (["--oidc-issuer", "https://login.example.test"], "--oidc-issuer needs --oidc-client-id"),
            (["--oidc-client-id", "dugnad"], "--oidc-client-id needs --oidc-issuer"),
            (["--oidc-issuer", "http://login.example.test", "--oidc-client-id", "dugnad"], "only loopback issuers may"),
            (issuer + ["--oidc-group-channel", "staff"], "must be GROUP=CHANNEL"),
            (issuer + ["--oidc-group-channel", "staff=Not A Channel"], "is not a channel name"),
            (issuer + ["--oidc-token-ttl", "5"], "--oidc-token-ttl must be at least 30 seconds"),
            (issuer + ["--jwt-algorithm", "ES256", "--jwt-public-key", "/nonexistent"], "needs --jwt-public-key"),
        ]
        for (flags, message) in cases {
            let outcome = try await command.run(["serve", "--port", "0", "--data-dir", data] + flags)
            #expect(outcome.exited && outcome.status != 0, "\(flags)")
            #expect((outcome.stdout + outcome.stderr).contains(message), "\(flags): \(outcome.stderr)")
        }
    }

    @Test func theClientSecretReachesNoLog() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let secret = "client-secret-" + UUID().uuidString
        let hub = try await ServeProcess.start(
            dataDirectory: command.folder.appendingPathComponent("data").path,
            arguments: [
                "--jwt-secret=\(String(repeating: "s", count: 40))", "--web-root", ServeProcess.webRoot, "--log-level", "trace",
                "--event-loops", "1", "--oidc-issuer", "http://127.0.0.1:1/realms/staff", "--oidc-client-id", "dugnad",
                "--oidc-client-secret", secret,
            ])
        #expect(await hub.stop())
        #expect(hub.output.contains("clientSecret: set (redacted)"), "the configuration is logged, redacted")
        #expect(!hub.output.contains(secret))
    }
}
