import DugnadTestSupport
import Foundation
import Testing

/// `dugnad serve --tls-cert --tls-key` as an operator runs it: refusals at start, what it
/// prints, and a certificate renewed in place and picked up on SIGHUP.
@Suite struct ServeTLSTests {
    private func serve(_ command: DugnadCommand, _ flags: [String]) async throws -> DugnadCommand.Outcome {
        try await command.run(
            ["serve", "--port", "0", "--data-dir", command.folder.appendingPathComponent("data").path]
                + ["--jwt-secret=\(ServeProcess.secret)", "--web-root", ServeProcess.webRoot] + flags)
    }

    @Test func aCertificateThatCannotServeStopsServeWithItsReason() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let expired = try TestCertificate(days: -1).write(to: command.folder.path, name: "expired")
        let outcome = try await serve(command, ["--tls-cert", expired.certificate, "--tls-key", expired.key])
        #expect(outcome.exited, "refused, not crashed")
        #expect(outcome.status != 0)
        #expect((outcome.stdout + outcome.stderr).contains("the TLS certificate in \(expired.certificate) expired on"))

        let fresh = try TestCertificate().write(to: command.folder.path, name: "fresh")
        let mismatched = try await serve(command, ["--tls-cert", fresh.certificate, "--tls-key", expired.key])
        #expect(mismatched.exited && mismatched.status != 0)
        #expect(
            (mismatched.stdout + mismatched.stderr).contains(
                "the TLS key in \(expired.key) does not belong to the certificate in \(fresh.certificate)"))

        let alone = try await serve(command, ["--tls-cert", fresh.certificate])
        #expect(alone.exited && alone.status != 0)
        #expect(alone.stderr.contains("--tls-cert and --tls-key go together"))
    }

    @Test func sighupReloadsARenewedCertificateAndKeepsTheOldOneForABadFile() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let first = try TestCertificate()
        let files = try first.write(to: command.folder.path, name: "hub")
        let hub = try await ServeProcess.start(
            dataDirectory: command.folder.appendingPathComponent("data").path,
            arguments: [
                "--jwt-secret=\(ServeProcess.secret)", "--web-root", ServeProcess.webRoot, "--log-level", "warning",
                "--event-loops", "1", "--tls-cert", files.certificate, "--tls-key", files.key,
            ])
        defer { hub.stopInBackground() }
        #expect(hub.output.contains("listening on https://127.0.0.1:\(hub.port) (WebSocket at wss://127.0.0.1:\(hub.port)/ws)"))
        #expect(try await TLSProbe.servedCertificate(port: hub.port) == first.der)

        let renewed = try TestCertificate()
        _ = try renewed.write(to: command.folder.path, name: "hub")
        hub.process.send(SIGHUP)
        let deadline = ContinuousClock.now + .seconds(60)
        while try await TLSProbe.servedCertificate(port: hub.port) != renewed.der {
            guard ContinuousClock.now < deadline else { throw DugnadCommand.Missing("no reload: \(hub.output)") }
            try await Task.sleep(for: .milliseconds(100))
        }

        try Data("garbage\n".utf8).write(to: URL(fileURLWithPath: files.key))
        hub.process.send(SIGHUP)
        while !hub.output.contains("TLS certificate not reloaded, keeping the old one: cannot read the TLS key in \(files.key)") {
            guard ContinuousClock.now < deadline else { throw DugnadCommand.Missing("no refusal logged: \(hub.output)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await TLSProbe.servedCertificate(port: hub.port) == renewed.der)
        #expect(await hub.stop(), "still running, and stops cleanly")
    }
}
