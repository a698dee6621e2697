import DugnadTestSupport
import DugnadTokens
import Foundation

/// `dugnad serve` as a child process on a free loopback port, on a data folder that the
/// CLI under test opens beside it (as `TestCluster.ChildNode` starts one, with its output
/// in a file rather than a pipe, so that nothing need be read while the test waits).
final class ServeProcess {
    /// The fixed HS256 secret the hub verifies tokens with.
    static let secret = "cli-test-secret-0123456789abcdef0123456789abcdef"

    let process: ChildProcess
    let port: Int
    /// Everything the hub printed, standard output and error together.
    let outputURL: URL

    private init(process: ChildProcess, port: Int, outputURL: URL) {
        self.process = process
        self.port = port
        self.outputURL = outputURL
    }

    /// Starts the hub on `dataDirectory` and returns once it listens (bounded by `timeout`).
    /// `arguments` replace the default flags after the data folder (secret, web root, log
    /// level, loops). Waits with `Task.sleep`, never holding a cooperative thread.
    static func start(dataDirectory: String, arguments: [String]? = nil, timeout: Duration = .seconds(60)) async throws
        -> ServeProcess
    {
        guard let binary = DugnadCommand.binary else {
            throw DugnadCommand.Missing("no .build/debug/dugnad: run swift build first")
        }
        let outputURL = FileManager.default.temporaryDirectory.appendingPathComponent("serve-output-\(UUID().uuidString)")
        let process = try ChildProcess(
            executable: binary,
            arguments: ["serve", "--port", "0", "--data-dir", dataDirectory]
                + (arguments ?? [
                    "--jwt-secret=\(Self.secret)", "--web-root", Self.webRoot, "--log-level", "warning", "--event-loops", "1",
                ]),
            outputPath: outputURL.path, errorPath: outputURL.path)
        let deadline = ContinuousClock.now + timeout
        while true {
            let text = String(decoding: (try? Data(contentsOf: outputURL)) ?? Data(), as: UTF8.self)
            if let range = text.range(of: #"listening on https?://127\.0\.0\.1:"#, options: .regularExpression),
                let port = Int(text[range.upperBound...].prefix { $0.isNumber })
            {
                return ServeProcess(process: process, port: port, outputURL: outputURL)
            }
            guard process.isRunning, ContinuousClock.now < deadline else {
                process.send(SIGKILL)
                await process.exit()
                throw DugnadCommand.Missing("dugnad serve did not start: \(text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// SIGTERM, as a service manager stops the hub, and a wait for its exit (bounded: past
    /// `timeout`, SIGKILL). Returns whether it exited by itself with 0.
    @discardableResult
    func stop(timeout: Duration = .seconds(30)) async -> Bool {
        process.send(SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning {
            process.send(SIGKILL)
            await process.exit()
            return false
        }
        return process.exitedCleanly
    }

    /// SIGTERM now, and SIGKILL after 30 s if it is still running, reaped on a thread of
    /// its own: for `defer`, which cannot wait. Nothing once `stop()` has ended it.
    func stopInBackground() {
        guard process.isRunning else { return }
        process.send(SIGTERM)
        let process = self.process
        DispatchQueue.global().asyncAfter(deadline: .now() + 30) { process.send(SIGKILL) }
        DispatchQueue.global().async { process.wait() }
    }

    /// What the hub printed so far.
    var output: String { String(decoding: (try? Data(contentsOf: outputURL)) ?? Data(), as: UTF8.self) }

    /// A token for `sub`, signed with the hub's secret, valid for an hour.
    static func token(_ sub: String, roles: [String] = [], channels: [String] = []) async throws -> String {
        try await TokenSigner.sign(
            secret: Array(secret.utf8), sub: sub, name: sub.capitalized, roles: roles, channels: channels, ttlSeconds: 3600)
    }

    static var webRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("web-client/public").path
    }
}
