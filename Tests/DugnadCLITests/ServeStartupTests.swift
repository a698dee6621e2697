import DugnadCore
import DugnadProtocol
import Foundation
import Testing

/// `dugnad serve` as an operator starts it: what it prints and writes at start-up, and what
/// it refuses to start with.
@Suite struct ServeStartupTests {
    /// A trace-level log of a whole start and stop holds neither the JWT secret (in any
    /// form) nor the database password.
    @Test func noSecretReachesATraceLevelLog() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let secret = "trace-secret-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        var arguments = [
            "--jwt-secret=\(secret)", "--web-root", ServeProcess.webRoot, "--log-level", "trace", "--event-loops", "1",
        ]
        let password = "pw-" + UUID().uuidString.prefix(12)
        if let base = ProcessInfo.processInfo.environment["DUGNAD_TEST_POSTGRES_URL"], !base.isEmpty,
            var url = URLComponents(string: base)
        {
            // The throwaway server trusts loopback: any password is accepted, and must not show.
            url.password = String(password)
            let withPassword = url.string ?? base
            arguments += [
                "--database",
                withPassword + (withPassword.contains("?") ? "&" : "?") + "schema=trace_"
                    + UUID().uuidString.prefix(8).lowercased(),
            ]
        }
        let hub = try await ServeProcess.start(dataDirectory: command.folder.appendingPathComponent("data").path, arguments: arguments)
        #expect(await hub.stop())
        let log = hub.output
        #expect(log.contains("debug") || log.contains("trace"), "the log is at trace level")
        #expect(!log.contains(secret), "the JWT secret is in the log")
        #expect(!log.contains(String(secret.utf8.map(String.init).joined(separator: ", "))), "the secret's bytes are in the log")
        #expect(!log.contains(password), "the database password is in the log")
        if arguments.contains("--database") {
            #expect(log.contains("PostgreSQL postgres://"), "the store's description, password left out, is logged")
        }
    }

    @Test func theDataFolderAndItsFilesAreTheOwnersAlone() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let data = command.folder.appendingPathComponent("data").path
        // A folder made before the rule, readable by all: tightened at start.
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: data)
        let hub = try await ServeProcess.start(dataDirectory: data)
        defer { hub.stopInBackground() }
        #expect(try permissions(data) == 0o700)
        let files = try FileManager.default.contentsOfDirectory(atPath: data)
        #expect(files.contains("dugnad.sqlite"))
        for file in files {
            #expect(try permissions(data + "/" + file) == 0o600, "\(file)")
        }
    }

    @Test func theAdminLinkIsOnlyForTheHubsOwnSecret() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        // Generated secret, output not a terminal: the link goes to a private file.
        let own = command.folder.appendingPathComponent("own").path
        let first = try await ServeProcess.start(
            dataDirectory: own, arguments: ["--web-root", ServeProcess.webRoot, "--log-level", "warning"])
        await first.stop()
        #expect(FileManager.default.fileExists(atPath: own + "/admin-sign-in-url"))
        // A configured secret: no link anywhere.
        let configured = command.folder.appendingPathComponent("configured").path
        let second = try await ServeProcess.start(dataDirectory: configured)
        await second.stop()
        #expect(!FileManager.default.fileExists(atPath: configured + "/admin-sign-in-url"))
        #expect(!second.output.contains("#token="))
        // --no-admin-link: none either.
        let refused = command.folder.appendingPathComponent("refused").path
        let third = try await ServeProcess.start(
            dataDirectory: refused, arguments: ["--web-root", ServeProcess.webRoot, "--no-admin-link"])
        await third.stop()
        #expect(!FileManager.default.fileExists(atPath: refused + "/admin-sign-in-url"))
    }

    @Test func publicKeyTokensWithoutAnAudienceOrIssuerRefuseToStart() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let pem = try command.file(
            "key.pem",
            """
            -----BEGIN PUBLIC KEY-----
            MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEs2ZcT0vv2YkYJxSvjHqTq1cjbDXn
            5cI3gqsFBvHKb1fr6PUQV9I02Y4ceXvd+LP82JeYb6TyvJWRVAcBy8Cxyg==
            -----END PUBLIC KEY-----
            """)
        let outcome = try await command.run([
            "serve", "--port", "0", "--data-dir", command.folder.appendingPathComponent("data").path,
            "--jwt-algorithm", "ES256", "--jwt-public-key", pem,
        ])
        #expect(outcome.exited)
        #expect(outcome.status != 0)
        #expect((outcome.stdout + outcome.stderr).contains("--jwt-issuer and --jwt-audience"))
    }

    private func permissions(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }
}
