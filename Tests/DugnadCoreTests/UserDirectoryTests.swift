import DugnadProtocol
import Testing

@testable import DugnadCore

/// The checks both imports share (`POST /api/v1/users` and `dugnad users import`).
@Suite struct UserDirectoryTests {
    @Test func aUserGetsItsIdAsNameAndMemberAsRoleWhenTheyAreMissing() throws {
        #expect(
            try UserDirectory.record(id: "u1", name: nil, roles: [])
                == UserRecord(id: "u1", name: "u1", roles: ["member"], lastSeen: nil))
        #expect(try UserDirectory.record(id: "u1", name: "", roles: ["leader", "admin"]).name == "u1")
        #expect(try UserDirectory.record(id: "u1", name: "Åse Ødegård", roles: ["leader"]).name == "Åse Ødegård")
    }

    @Test func aLongNameIsCut() throws {
        let name = String(repeating: "æ", count: 300)
        #expect(try UserDirectory.record(id: "u1", name: name, roles: []).name.count == UserDirectory.maxNameCharacters)
    }

    @Test func aBadIdOrAnUnknownRoleIsRefusedNamingTheField() {
        #expect(throws: UserDirectory.Refusal(message: "id must be a non-empty string of at most \(Limits.maxIDBytes) bytes")) {
            try UserDirectory.record(id: "", name: "Nobody", roles: [])
        }
        #expect(throws: UserDirectory.Refusal.self) {
            try UserDirectory.record(id: String(repeating: "x", count: Limits.maxIDBytes + 1), name: nil, roles: [])
        }
        #expect(throws: UserDirectory.Refusal(message: "roles may hold member, leader, admin, not 'boss'")) {
            try UserDirectory.record(id: "u1", name: nil, roles: ["member", "boss"])
        }
    }

    @Test func theJSONImportSaysWhichUserIsWrong() throws {
        let users = try JSONParser.parse(#"[{"id":"u1","name":"Kari"},{"id":"u2","roles":["leader","king"]}]"#)
        #expect(throws: ProtocolError.badRequest("users[1].roles may hold member, leader, admin, not 'king'")) {
            try UserDirectory.records(from: users)
        }
        let good = try JSONParser.parse(#"[{"id":"u1","name":"Kari"},{"id":"u2","roles":["leader"]}]"#)
        #expect(
            try UserDirectory.records(from: good) == [
                UserRecord(id: "u1", name: "Kari", roles: ["member"], lastSeen: nil),
                UserRecord(id: "u2", name: "u2", roles: ["leader"], lastSeen: nil),
            ])
    }

    @Test func nulAndBotIdsAreRefused() {
        #expect(throws: UserDirectory.Refusal.self) { try UserDirectory.record(id: "alice\u{0}x", name: nil, roles: []) }
        #expect(throws: UserDirectory.Refusal.self) { try UserDirectory.record(id: "alice", name: "A\u{0}", roles: []) }
        #expect(throws: UserDirectory.Refusal.self) { try UserDirectory.record(id: "bot:k_1", name: nil, roles: []) }
    }
}
