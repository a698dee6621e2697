import DugnadCore
import Foundation
import Testing

/// `dugnad users import` on files it must refuse: a clean exit 1, every bad line named on
/// stderr, and the store exactly as before (nothing of the file imported).
@Suite struct UsersImportRefusalTests {
    /// Imports a good file first, then `bytes`; expects the refusal to mention each of
    /// `expected` and the store to hold only the first file's users. Returns stderr.
    @discardableResult
    private func refused(_ bytes: [UInt8], saying expected: [String]) async throws -> String {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let seeded = try await command.importUsers(try command.file("before.csv", "u0,Seed Person,admin\nu1,Kari,member\n"))
        #expect(seeded.status == 0, "\(seeded.stderr)")
        let before = try command.users()
        #expect(before.count == 2)

        let outcome = try await command.importUsers(try command.file("people.csv", bytes))
        #expect(outcome.exited, "the import must fail cleanly, not crash: \(outcome.stderr)")
        #expect(outcome.status == 1)
        #expect(outcome.stdout.isEmpty)
        #expect(outcome.stderr.contains("nothing was imported from"), "\(outcome.stderr)")
        for text in expected {
            #expect(outcome.stderr.contains(text), "stderr lacks '\(text)': \(outcome.stderr)")
        }
        #expect(!outcome.stderr.contains("Usage:"), "a bad file is no usage error: \(outcome.stderr)")
        #expect(try command.users() == before)
        return outcome.stderr
    }

    @discardableResult
    private func refused(_ text: String, saying expected: [String]) async throws -> String {
        try await refused(Array(text.utf8), saying: expected)
    }

    @Test func aRowWithABadIdIsRefusedByItsLine() async throws {
        try await refused("id,name,roles\r\nu2,Ola,member\r\n,Nobody,member\r\n", saying: ["line 3: id must be a non-empty"])
        let long = String(repeating: "x", count: 129)
        try await refused("u2,Ola,member\n\(long),Long Id,member\n", saying: ["line 2: id must be", "at most 128 bytes"])
    }

    @Test func anUnknownRoleIsRefusedByItsLine() async throws {
        try await refused(
            "id;name;roles\nu2;Ola;member\nu3;Per;leader boss\n",
            saying: ["line 3: roles may hold member, leader, admin, not 'boss'"])
    }

    @Test func aRowWithMissingColumnsIsRefusedByItsLine() async throws {
        try await refused("id,name,roles\nu2,Ola,member\nu3,Per\n", saying: ["line 3: 2 of 3 fields (id, name, roles)"])
        // Without a header the row needs all three too; a lone field hints at the separator.
        try await refused("u2;Ola;member\nu3,Per,member\n", saying: ["line 2: 1 of 3 fields", "separated by ';'"])
    }

    @Test func rolesSeparatedByTheFilesOwnSeparatorNeedQuotes() async throws {
        try await refused(
            "id;name;roles\nu2;Ola;leader;member\n", saying: ["line 2: 4 fields where 3 are expected", "\"leader;member\""])
    }

    @Test func aFileThatIsNotUTF8IsRefusedByTheLineOfItsFirstBadByte() async throws {
        // "Søren" as Excel's plain "CSV" writes it on a Norwegian Windows: ø is 0xF8 (Windows-1252).
        let bytes = Array("id,name,roles\nu2,Ola,member\nu3,S".utf8) + [0xF8] + Array("ren,member\n".utf8)
        try await refused(bytes, saying: ["line 3 is not UTF-8 text (byte 0xF8)", "CSV UTF-8"])
        try await refused([0xFF, 0xFE] + Array("i\0d\0".utf8), saying: ["UTF-16"])
    }

    @Test func aQuoteThatIsNeverClosedIsRefusedByItsLine() async throws {
        try await refused("u2,Ola,member\nu3,\"Per,member\nu4,Liv,member\n", saying: ["line 2: a quoted field is never closed"])
    }

    @Test func aStrayQuoteInsideAFieldIsRefusedByItsLine() async throws {
        try await refused("u2,Ola,member\nu3,Per \"P\" Olsen,member\n", saying: ["line 2: a quote in the middle of a field"])
        try await refused("u2,Ola,member\r\nu3,\"Per\" Olsen,member\r\n", saying: ["line 2: a quote in the middle of a field"])
    }

    @Test func lineNumbersCountTheLineBreaksInsideQuotedFields() async throws {
        try await refused(
            "id,name,roles\nu2,\"Ola\nNordmann\",member\nu3,\"Per\r\n\r\nPaulsen\",member\nu4,Liv,boss\n",
            saying: ["line 7: roles may hold"])
    }

    @Test func everyBadLineIsNamedAndTheGoodOnesAreNotImportedEither() async throws {
        let stderr = try await refused(
            "id,name,roles\nu2,Ola,king\nu3,Per,member\n,No Id,member\nu5,Liv\n",
            saying: ["line 2: roles may hold", "line 4: id must be", "line 5: 2 of 3 fields"])
        #expect(!stderr.contains("line 3"))
    }

    @Test func anIdTwiceInOneFileIsRefused() async throws {
        try await refused("u2,Ola,member\nu3,Per,member\nu2,Ola Nordmann,leader\n", saying: ["line 3: id 'u2' is on line 1 too"])
    }

    @Test func aHeaderWithAnUnknownColumnIsRefused() async throws {
        try await refused("id,navn,roller\nu2,Ola,member\n", saying: ["line 1: the header names a column 'navn'"])
    }

    @Test func aFileWithoutUsersIsRefused() async throws {
        try await refused("", saying: ["the file holds no users"])
        try await refused("\u{FEFF}id;name;roles\r\n\r\n", saying: ["holds a header (line 1) but no users"])
    }
}
