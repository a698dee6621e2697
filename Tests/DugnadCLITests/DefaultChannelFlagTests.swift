import DugnadCore
import DugnadProtocol
import Foundation
import Testing

/// `dugnad serve --default-channel`: the channels every person is in from the first
/// connection, as an operator names them, and the names it refuses to start with.
@Suite struct DefaultChannelFlagTests {
    private static let patience: Duration = .seconds(30)

    private static func serveArguments(_ extra: [String]) -> [String] {
        let standard = [
            "--jwt-secret=\(ServeProcess.secret)", "--web-root", ServeProcess.webRoot, "--log-level", "warning",
            "--event-loops", "1",
        ]
        return standard + extra
    }

    @Test func theNamedChannelsReplaceGeneralInTheFirstWelcome() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let hub = try await ServeProcess.start(
            dataDirectory: command.folder.path,
            arguments: Self.serveArguments(["--default-channel", "alle", "--default-channel", "nyheter-intern"]))
        defer { hub.stopInBackground() }
        let ola = try await LiveClient.connect(port: hub.port, token: try await ServeProcess.token("ola"))
        let welcome = try await ola.next(timeout: Self.patience) { $0["type"] == "welcome" }
        let names = welcome["channels"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["alle", "nyheter-intern"])
        await ola.close()
        #expect(await hub.stop(), "the hub must shut down cleanly on SIGTERM")
    }

    @Test func aBadNameOrAPrivateChannelOfThatNameStopsTheStart() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let badName = try await command.run([
            "serve", "--port", "0", "--data-dir", command.folder.path, "--default-channel", "Alle",
        ])
        #expect(badName.exited)
        #expect(badName.status != 0)
        #expect((badName.stdout + badName.stderr).contains("--default-channel 'Alle'"))

        #expect(try await command.admin("channels", "create", "board", "--kind", "private").status == 0)
        let serve = ["serve", "--port", "0", "--data-dir", command.folder.path]
        let privateOne = try await command.run(serve + Self.serveArguments(["--default-channel", "board"]))
        #expect(privateOne.exited)
        #expect(privateOne.status != 0)
        #expect((privateOne.stdout + privateOne.stderr).contains("exists as a private channel"))
    }
}
