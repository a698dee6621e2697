import DugnadCore
import Foundation
import Testing

/// The admin commands refuse bad input by the hub's own rules (those of
/// `APIRoute.checkPathParts` and `UserDirectory.record`): a clear error, a non-zero exit
/// (never a crash), and nothing stored, in the audit log or anywhere else.
///
/// (An id with U+0000 cannot be typed: a command line is C strings, which end there. The
/// check is still made, as `AdminInput.checkUserID`.)
@Suite struct AdminRefusalTests {
    /// Runs `arguments` on a folder holding the private channel `board`, expects a refusal
    /// that says each of `expected`, and the store as before. Returns the outcome.
    @discardableResult
    private func refused(_ arguments: [String], saying expected: [String], status: Int32? = nil) async throws
        -> DugnadCommand.Outcome
    {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        #expect(try await command.admin("channels", "create", "board", "--kind", "private").status == 0)
        let before = try command.auditLog()

        let outcome = try await command.run(arguments + ["--data-dir", command.folder.path])
        #expect(outcome.exited, "the command must fail cleanly, not crash: \(outcome.stderr)")
        #expect(outcome.status != 0, "\(arguments) was taken: \(outcome.stdout)")
        if let status { #expect(outcome.status == status, "\(outcome.stderr)") }
        #expect(outcome.stdout.isEmpty, "\(outcome.stdout)")
        #expect(outcome.stderr.contains("Error: "), "\(outcome.stderr)")
        for text in expected {
            #expect(outcome.stderr.contains(text), "stderr lacks '\(text)': \(outcome.stderr)")
        }
        #expect(try command.auditLog() == before)
        #expect(try command.inspect { try $0.allChannels() }.map(\.name) == ["board"])
        #expect(try command.inspect { try $0.members(channel: "board", afterUserID: nil, limit: 10) }.members.isEmpty)
        #expect(try command.inspect { try $0.standing(userID: "ola") }.ban == nil)
        return outcome
    }

    static let badChannelNames = ["Board", "_board", "", "bo ard", "bøard", String(repeating: "b", count: 65)]

    @Test(arguments: badChannelNames)
    func anInvalidChannelNameIsRefused(_ name: String) async throws {
        let saying = ["is not a valid channel name", "^[a-z0-9][a-z0-9._-]{0,63}$"]
        try await refused(["channels", "add-member", name, "ola"], saying: saying, status: 64)
        try await refused(["channels", "remove-member", name, "ola"], saying: saying, status: 64)
        try await refused(["channels", "members", name], saying: saying, status: 64)
        try await refused(["channels", "create", name], saying: saying, status: 64)
    }

    @Test func aChannelNameOf64CharactersIsTaken() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let name = String(repeating: "b", count: 64)
        #expect(try await command.admin("channels", "create", name).status == 0)
        #expect(try await command.admin("channels", "add-member", name, "ola").status == 0)
    }

    @Test func anEmptyUserIdIsRefused() async throws {
        let saying = ["'' is not a valid user id", "non-empty", "at most 128 bytes"]
        try await refused(["channels", "add-member", "board", ""], saying: saying, status: 64)
        try await refused(["channels", "remove-member", "board", ""], saying: saying, status: 64)
        try await refused(["users", "ban", ""], saying: saying, status: 64)
        try await refused(["users", "unban", ""], saying: saying, status: 64)
    }

    @Test func aUserIdOver128BytesIsRefused() async throws {
        // 65 two-byte characters: 65 characters, 130 bytes.
        let long = String(repeating: "ø", count: 65)
        let saying = ["is not a valid user id", "at most 128 bytes"]
        try await refused(["channels", "add-member", "board", long], saying: saying, status: 64)
        try await refused(["channels", "remove-member", "board", long], saying: saying, status: 64)
        try await refused(["users", "ban", long], saying: saying, status: 64)
        try await refused(["users", "unban", long], saying: saying, status: 64)
    }

    @Test func aUserIdOf128BytesIsTaken() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let id = String(repeating: "ø", count: 64)
        #expect(try await command.admin("users", "ban", id).status == 0)
        #expect(try command.inspect { try $0.standing(userID: id).ban } != nil)
    }

    @Test func aBotsIdIsRefused() async throws {
        let saying = ["'bot:k_123' is a bot's id", "dugnad keys revoke"]
        try await refused(["channels", "add-member", "board", "bot:k_123"], saying: saying, status: 64)
        try await refused(["channels", "remove-member", "board", "bot:k_123"], saying: saying, status: 64)
        try await refused(["users", "ban", "bot:k_123"], saying: saying, status: 64)
        try await refused(["users", "unban", "bot:k_123"], saying: saying, status: 64)
    }

    @Test func anUnknownChannelIsNamed() async throws {
        let saying = ["no channel 'styret'", "dugnad channels create"]
        for arguments in [
            ["channels", "add-member", "styret", "ola"], ["channels", "remove-member", "styret", "ola"],
            ["channels", "members", "styret"],
        ] {
            let outcome = try await refused(arguments, saying: saying, status: 1)
            #expect(!outcome.stderr.contains("Usage:"), "a missing channel is no usage error: \(outcome.stderr)")
        }
    }

    @Test func aReasonOver500CharactersIsRefused() async throws {
        try await refused(
            ["users", "ban", "ola", "--reason", String(repeating: "x", count: 501)],
            saying: ["--reason is 501 characters; it may be at most 500"], status: 64)
    }

    @Test func limitsOutOfRangeAreRefused() async throws {
        try await refused(["channels", "members", "board", "--limit", "0"], saying: ["--limit must be 1 to 500"], status: 64)
        try await refused(["channels", "members", "board", "--limit", "501"], saying: ["--limit must be 1 to 500"], status: 64)
        try await refused(["audit", "--limit", "0"], saying: ["--limit must be 1 to 500"], status: 64)
        try await refused(["audit", "--before", "0"], saying: ["--before must be an entry's seq"], status: 64)
        try await refused(["audit", "--before", "latest"], saying: ["--before"], status: 64)
    }

    @Test func aTitleOutOfRangeIsRefused() async throws {
        try await refused(
            ["channels", "create", "general", "--title", String(repeating: "t", count: 201)],
            saying: ["--title must be 1 to 200 characters"], status: 64)
        try await refused(["channels", "create", "general", "--title", ""], saying: ["--title must be 1 to 200"], status: 64)
    }
}
