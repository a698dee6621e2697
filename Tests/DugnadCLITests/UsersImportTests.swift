import DugnadCore
import Foundation
import Testing

/// `dugnad users import` on files as spreadsheets save them: the built binary on real
/// files, read back from the real SQLite file.
@Suite struct UsersImportTests {
    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Imports `bytes` into a fresh store, expects success, and returns what the store holds.
    private func imported(_ bytes: [UInt8], count: Int) async throws -> [UserRecord] {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let outcome = try await command.importUsers(try command.file("people.csv", bytes))
        #expect(outcome.exited && outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout == "imported \(count) users\n")
        return try command.users()
    }

    private func imported(_ text: String, count: Int) async throws -> [UserRecord] {
        try await imported(Array(text.utf8), count: count)
    }

    private func user(_ id: String, _ name: String, _ roles: [String] = ["member"]) -> UserRecord {
        UserRecord(id: id, name: name, roles: roles, lastSeen: nil)
    }

    @Test func excelCSVUTF8WithAByteOrderMarkAndWindowsLineEndingsImportsEveryone() async throws {
        let text = "id,name,roles\r\nu1,Kari Nordmann,leader\r\nu2,\"Nordmann, Ola\",member admin\r\nu3,Åse Ødegård Bærum,\r\n"
        let users = try await imported(Self.byteOrderMark + Array(text.utf8), count: 3)
        #expect(
            users == [
                user("u1", "Kari Nordmann", ["leader"]), user("u2", "Nordmann, Ola", ["member", "admin"]),
                user("u3", "Åse Ødegård Bærum"),
            ])
    }

    @Test func norwegianExcelSemicolonsTakeRolesSeparatedBySpacesCommasBarsOrQuoted() async throws {
        // Norwegian Excel's "CSV UTF-8": byte-order mark, ';' between fields, CRLF; no header here.
        let text = [
            "u1;Kari Nordmann;leader member", "u2;Ola Nordmann;\"leader;member\"", "u3;\"Nordmann; Per\";admin,leader",
            "u4;Liv Ås;leader|member", "u5;Bo Ørn;", "u6;Siv; Leader  ,  MEMBER ",
        ].joined(separator: "\r\n")
        let users = try await imported(Self.byteOrderMark + Array(text.utf8), count: 6)
        #expect(
            users == [
                user("u1", "Kari Nordmann", ["leader", "member"]), user("u2", "Ola Nordmann", ["leader", "member"]),
                user("u3", "Nordmann; Per", ["admin", "leader"]), user("u4", "Liv Ås", ["leader", "member"]),
                user("u5", "Bo Ørn"), user("u6", "Siv", ["leader", "member"]),
            ])
    }

    @Test func quotedNamesKeepTheSeparatorDoubledQuotesAndLineBreaks() async throws {
        let text = """
            id,name,roles
            u1,"Nordmann, Kari",leader
            u2,"Kari ""Kajsa"" Nordmann",member
            u3,"Kari
            Nordmann",member
            u4,Ola,admin

            """
        await #expect(
            try imported(text, count: 4) == [
                user("u1", "Nordmann, Kari", ["leader"]), user("u2", "Kari \"Kajsa\" Nordmann"),
                user("u3", "Kari\nNordmann"), user("u4", "Ola", ["admin"]),
            ])
    }

    @Test func aLineBreakInsideAQuotedNameIsTheSameFromAWindowsFile() async throws {
        let text = "id,name,roles\r\nu1,\"Ola\r\nNordmann\",member\r\nu2,\"Åse;\r\n Ødegård\",leader\r\n"
        await #expect(try imported(text, count: 2) == [user("u1", "Ola\nNordmann"), user("u2", "Åse;\n Ødegård", ["leader"])])
    }

    @Test func aHeaderInAnyOrderAndCaseNamesTheColumns() async throws {
        let commas = "Roles,ID,Name\nleader member,u1,Kari Nordmann\n,u2,Ola\n"
        await #expect(
            try imported(commas, count: 2) == [user("u1", "Kari Nordmann", ["leader", "member"]), user("u2", "Ola")])
        let semicolons = "NAME;roles;Id\r\n\"Nordmann, Per\";admin leader;u3\r\nÆsa;;u4\r\n"
        await #expect(
            try imported(semicolons, count: 2) == [user("u3", "Nordmann, Per", ["admin", "leader"]), user("u4", "Æsa")])
    }

    @Test func withoutAHeaderTheColumnsAreIdNameRolesAndEmptyFieldsTakeDefaults() async throws {
        // Blank lines anywhere, empty trailing lines, and a last line without a line break
        // that ends in an empty field.
        let text = "u1,Kari,leader\n\nu2,,\n   \n,,\nu3,Ola,admin\n\n\nu4,Per,"
        await #expect(
            try imported(text, count: 4) == [
                user("u1", "Kari", ["leader"]), user("u2", "u2"), user("u3", "Ola", ["admin"]), user("u4", "Per"),
            ])
    }

    @Test func aHeaderMayLeaveOutTheRolesAndTheName() async throws {
        await #expect(try imported("id\nu1\nu2\n", count: 2) == [user("u1", "u1"), user("u2", "u2")])
        await #expect(try imported("name\tid\nKari Nordmann\tu1\n", count: 1) == [user("u1", "Kari Nordmann")])
    }

    @Test func importingAnIdAgainUpdatesItsNameAndRoles() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        #expect(try await command.importUsers(try command.file("first.csv", "u1,Kari,member\nu2,Ola,member\n")).status == 0)
        #expect(try await command.importUsers(try command.file("second.csv", "u1,Kari Nordmann,leader admin\n")).status == 0)
        #expect(try command.users() == [user("u1", "Kari Nordmann", ["leader", "admin"]), user("u2", "Ola")])
    }
}
