import DugnadCore
import Foundation
import Testing

/// `dugnad channels add-member`, `remove-member` and `members` on a real SQLite data
/// folder: the memberships the store holds afterwards, and the audit entries the HTTP
/// twins (`Hub.addMember`, `Hub.removeMember`) write for the same actions.
@Suite struct ChannelMembersCommandTests {
    /// A fresh folder with a private channel `board`.
    private func folderWithBoard() async throws -> DugnadCommand {
        let command = try DugnadCommand()
        let created = try await command.admin("channels", "create", "board", "--kind", "private", "--title", "Board")
        #expect(created.status == 0, "\(created.stderr)")
        return command
    }

    @Test func addMemberGrantsTheMembershipAndSaysWhetherItWasNew() async throws {
        let command = try await folderWithBoard()
        defer { command.removeFolder() }

        let first = try await command.admin("channels", "add-member", "board", "kari")
        #expect(first.exited && first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "granted kari membership of board (new)\n")
        #expect(try command.inspect { try $0.membershipKind(userID: "kari", channel: "board") } == .granted)

        let again = try await command.admin("channels", "add-member", "board", "kari")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == "kari already had a granted membership of board; nothing was changed\n")

        // One entry: the second grant changed nothing, and the log holds only actions that took effect.
        let added = try command.auditLog().filter { $0.action == "member.added" }
        #expect(added.count == 1)
        #expect(added.first?.actor == "cli")
        #expect(added.first?.target == "board")
        #expect(added.first?.detailJSON == #"{"user":"kari"}"#)
    }

    @Test func addMemberGrantsAUserWhoHadJoined() async throws {
        let command = try await folderWithBoard()
        defer { command.removeFolder() }
        try command.inspect { _ = try $0.write([.join(userID: "ola", channel: "board", at: 1)]) }
        #expect(try command.inspect { try $0.membershipKind(userID: "ola", channel: "board") } == .joined)
        let outcome = try await command.admin("channels", "add-member", "board", "ola")
        #expect(outcome.stdout == "granted ola membership of board (new)\n", "\(outcome.stderr)")
        #expect(try command.inspect { try $0.membershipKind(userID: "ola", channel: "board") } == .granted)
    }

    @Test func removeMemberEndsTheMembershipHoweverItCameAbout() async throws {
        let command = try await folderWithBoard()
        defer { command.removeFolder() }
        #expect(try await command.admin("channels", "add-member", "board", "kari").status == 0)
        try command.inspect { _ = try $0.write([.join(userID: "ola", channel: "board", at: 1)]) }

        for user in ["kari", "ola"] {
            let removed = try await command.admin("channels", "remove-member", "board", user)
            #expect(removed.exited && removed.status == 0, "\(removed.stderr)")
            #expect(removed.stdout == "removed \(user) from board\n")
            #expect(try command.inspect { try $0.membershipKind(userID: user, channel: "board") } == nil)
        }
        let again = try await command.admin("channels", "remove-member", "board", "kari")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == "kari was not a member of board; nothing was changed\n")

        // Newest first: ola's removal, then kari's; none for the removal that changed nothing.
        let removed = try command.auditLog().filter { $0.action == "member.removed" }
        #expect(removed.map(\.detailJSON) == [#"{"user":"ola"}"#, #"{"user":"kari"}"#])
        #expect(removed.allSatisfy { $0.actor == "cli" && $0.target == "board" })
    }

    @Test func membersListsIdNameAndLastSeenAPageAtATime() async throws {
        let command = try await folderWithBoard()
        defer { command.removeFolder() }
        let csv = try command.file("people.csv", "u1,Kari Nordmann,member\nu2,\"Ola\nNordmann\",member\nu3,Per,leader\n")
        #expect(try await command.importUsers(csv).status == 0)
        try command.inspect { _ = try $0.write([.closeSession(id: "s1", userID: "u3", at: 1_764_411_223_123)]) }
        for user in ["u3", "u1", "u2", "u4"] {
            #expect(try await command.admin("channels", "add-member", "board", user).status == 0)
        }

        let first = try await command.admin("channels", "members", "board", "--limit", "2")
        #expect(first.exited && first.status == 0, "\(first.stderr)")
        // A line break in a name is escaped: every member stays one line.
        #expect(first.stdout == "id\tname\tlast seen\nu1\tKari Nordmann\t-\nu2\tOla\\nNordmann\t-\n")
        #expect(first.stderr.contains("--after 'u2'"), "\(first.stderr)")

        let rest = try await command.admin("channels", "members", "board", "--limit", "2", "--after", "u2")
        #expect(rest.status == 0, "\(rest.stderr)")
        // u4 was never seen nor imported: its id stands for its name.
        #expect(rest.stdout == "id\tname\tlast seen\nu3\tPer\t2025-11-29T10:13:43Z\nu4\tu4\t-\n")
        #expect(rest.stderr.isEmpty)

        let all = try await command.admin("channels", "members", "board")
        #expect(all.stdout.split(separator: "\n").count == 5)
    }
}
