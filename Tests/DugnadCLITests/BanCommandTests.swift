import DugnadCore
import Foundation
import Testing

/// `dugnad users ban` and `unban` on a real SQLite data folder: the user's standing
/// afterwards, and the audit entries `Hub.ban` and `Hub.unban` write for the same actions.
@Suite struct BanCommandTests {
    @Test func banRecordsTheBanByTheCLIWithItsReason() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let outcome = try await command.admin("users", "ban", "ola", "--reason", "Spam i #general, «igjen»")
        #expect(outcome.exited && outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout == "banned ola (Spam i #general, «igjen»)\n")

        let ban = try command.inspect { try $0.standing(userID: "ola").ban }
        #expect(ban?.userID == "ola")
        #expect(ban?.bannedBy == "cli")
        #expect(ban?.reason == "Spam i #general, «igjen»")

        let entries = try command.auditLog()
        #expect(entries.count == 1)
        #expect(entries.first?.action == "user.banned")
        #expect(entries.first?.actor == "cli")
        #expect(entries.first?.target == "ola")
        #expect(entries.first?.detail("reason") == "Spam i #general, «igjen»")
        #expect(entries.first?.at == ban?.bannedAt)
    }

    @Test func banWithoutAReasonHasAnEmptyDetail() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let outcome = try await command.admin("users", "ban", "ola")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout == "banned ola\n")
        #expect(try command.inspect { try $0.standing(userID: "ola").ban?.reason } == nil)
        #expect(try command.auditLog().map(\.detailJSON) == ["{}"])
    }

    @Test func banningAgainReplacesTheReasonAndIsAnActionAgain() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        #expect(try await command.admin("users", "ban", "ola", "--reason", "first").status == 0)
        #expect(try await command.admin("users", "ban", "ola", "--reason", "second").status == 0)
        #expect(try command.inspect { try $0.standing(userID: "ola").ban?.reason } == "second")
        #expect(try command.auditLog().map { $0.detail("reason") } == ["second", "first"])
    }

    @Test func unbanLiftsTheBanAndSaysWhenThereWasNone() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        #expect(try await command.admin("users", "ban", "ola").status == 0)

        let lifted = try await command.admin("users", "unban", "ola")
        #expect(lifted.exited && lifted.status == 0, "\(lifted.stderr)")
        #expect(lifted.stdout == "lifted the ban of ola\n")
        #expect(try command.inspect { try $0.standing(userID: "ola").ban } == nil)

        let again = try await command.admin("users", "unban", "ola")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == "ola was not banned; nothing was changed\n")

        let entries = try command.auditLog()
        #expect(entries.map(\.action) == ["user.unbanned", "user.banned"])
        #expect(entries.first?.target == "ola")
        #expect(entries.first?.actor == "cli")
        #expect(entries.first?.detailJSON == "{}")
    }

    @Test func aReasonOfExactly500CharactersIsTaken() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let reason = String(repeating: "å", count: 500)
        let outcome = try await command.admin("users", "ban", "ola", "--reason", reason)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(try command.inspect { try $0.standing(userID: "ola").ban?.reason } == reason)
    }
}
