import DugnadCore
import DugnadProtocol
import Foundation
import Testing

/// The CLI beside a running hub: `dugnad serve` as a child process on the same data folder,
/// real WebSocket clients, and admin commands that reach their open connections through the
/// audit log the hub reads (every 500 ms). Every wait is bounded generously (30 s) and no
/// duration is asserted: the CI machine is loaded.
@Suite struct LiveGovernanceTests {
    static let patience: Duration = .seconds(30)

    @Test func grantsRemovalsAndBansFromTheCLIReachTheLiveConnections() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        #expect(try await command.admin("channels", "create", "board", "--kind", "private").status == 0)
        let hub = try await ServeProcess.start(dataDirectory: command.folder.path)
        defer { hub.stopInBackground() }

        let ola = try await LiveClient.connect(port: hub.port, token: try await ServeProcess.token("ola"))
        _ = try await ola.next(timeout: Self.patience) { $0["type"] == "welcome" }
        let kari = try await LiveClient.connect(port: hub.port, token: try await ServeProcess.token("kari"))
        _ = try await kari.next(timeout: Self.patience) { $0["type"] == "welcome" }

        // A grant made while ola is connected: the hub learns of it from the log.
        let granted = try await command.admin("channels", "add-member", "board", "ola")
        #expect(granted.stdout == "granted ola membership of board (new)\n", "\(granted.stderr)")
        let joined = try await joinOnceGranted(ola, "board")
        #expect(joined["channel"]?["name"] == "board")

        // Removed: the subscription ends with a `removed` event, and the membership is gone.
        let removed = try await command.admin("channels", "remove-member", "board", "ola")
        #expect(removed.stdout == "removed ola from board\n", "\(removed.stderr)")
        let event = try await ola.next(timeout: Self.patience) { $0["type"] == "removed" }
        #expect(event == ["type": "removed", "channel": "board", "reason": "removed_by_admin"])
        #expect(try command.inspect { try $0.membershipKind(userID: "ola", channel: "board") } == nil)
        let history = try await ola.request("history", [("channel", "board")], timeout: Self.patience)
        #expect(history["ok"] == false)
        #expect(history["error"]?["code"] == "forbidden")

        // Banned: the open connection closes with 4500 banned, a new one is refused the same way.
        let banned = try await command.admin("users", "ban", "ola", "--reason", "spam")
        #expect(banned.status == 0, "\(banned.stderr)")
        let close = try await ola.closed(timeout: Self.patience)
        #expect(close.code == 4500)
        #expect(close.reason == "banned")
        let again = try await LiveClient.connect(port: hub.port, token: try await ServeProcess.token("ola"))
        let refusal = try await again.closed(timeout: Self.patience)
        #expect(refusal.code == 4500)
        #expect(refusal.reason == "banned")

        // Nobody else was touched.
        let pong = try await kari.request("ping", timeout: Self.patience)
        #expect(pong["ok"] == true)

        // Unbanned: ola may connect again.
        #expect(try await command.admin("users", "unban", "ola").status == 0)
        let back = try await LiveClient.connect(port: hub.port, token: try await ServeProcess.token("ola"))
        let welcome = try await back.next(timeout: Self.patience) { $0["type"] == "welcome" }
        #expect(welcome["user"]?["id"] == "ola")

        await back.close()
        await kari.close()
        #expect(await hub.stop(), "the hub must shut down cleanly on SIGTERM")

        // Newest first; the hub made its default channel, general, when it started.
        let actions = try command.auditLog().map { "\($0.action) \($0.actor)" }
        #expect(
            actions == [
                "user.unbanned cli", "user.banned cli", "member.removed cli", "member.added cli", "channel.created hub",
                "channel.created cli",
            ])
    }

    /// Joins `channel`, again while the hub answers `forbidden` (it applies a grant made by
    /// the CLI when it next reads the audit log), up to `patience`. Returns the ok reply.
    private func joinOnceGranted(_ client: LiveClient, _ channel: String) async throws -> JSONValue {
        let deadline = ContinuousClock.now + Self.patience
        while true {
            let reply = try await client.request("join", [("channel", .string(channel))], timeout: Self.patience)
            if reply["ok"] == true { return reply }
            guard reply["error"]?["code"] == "forbidden", ContinuousClock.now < deadline else {
                throw DugnadCommand.Missing("join of \(channel) refused: \(reply.jsonString())")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
