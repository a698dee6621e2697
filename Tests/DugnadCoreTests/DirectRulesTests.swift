import DugnadProtocol
import Testing

@testable import DugnadCore

/// Direct channels on their own: the name a set of people gets, and who may enter.
@Suite struct DirectRulesTests {
    private let pair = ChannelRecord(
        name: DirectChannelName.of(members: ["ola", "kari"]), kind: .direct, title: "Kari, Ola", epoch: "e_1", lastSeq: 0,
        createdAt: 0)

    private func person(_ id: String = "per", _ roles: Set<Role> = [.member], claims: Set<String> = []) -> Principal {
        Principal(userID: id, name: id, roles: roles, channels: claims, expiresAt: nil)
    }

    @Test func theSameSetGivesTheSameNameWhateverTheOrderAndAnotherSetAnother() {
        let name = DirectChannelName.of(members: ["ola", "kari"])
        #expect(name == DirectChannelName.of(members: ["kari", "ola"]))
        #expect(name == DirectChannelName.of(members: ["kari", "ola", "kari"]))
        #expect(name.hasPrefix("dm-") && name.utf8.count == 35)
        #expect(ChannelName.isValid(name), "every command that takes a channel takes it")
        #expect(DirectChannelName.isReserved(name))
        #expect(name != DirectChannelName.of(members: ["ola", "kari", "per"]))
        // Lengths in front: ids that would run together give different names.
        #expect(DirectChannelName.of(members: ["a", "bc"]) != DirectChannelName.of(members: ["ab", "c"]))
    }

    @Test func onlyTheDirectFormIsReserved() {
        #expect(!DirectChannelName.isReserved("dm-team"))
        #expect(!DirectChannelName.isReserved("dm-" + String(repeating: "a", count: 31)))
        #expect(!DirectChannelName.isReserved("dm-" + String(repeating: "g", count: 32)))
        #expect(!DirectChannelName.isReserved("xdm-" + String(repeating: "a", count: 32)))
        #expect(DirectChannelName.isReserved("dm-" + String(repeating: "0", count: 32)))
    }

    @Test func theTitleNamesTheOthers() {
        let members = [(id: "ola", name: "Ola Nordmann"), (id: "kari", name: "Kari Hansen"), (id: "per", name: "Per Berg")]
        #expect(DirectChannelName.title(members: members, viewer: "ola") == "Kari Hansen, Per Berg")
        #expect(DirectChannelName.title(members: members, viewer: "per") == "Kari Hansen, Ola Nordmann")
    }

    @Test func onlyItsPeopleEnterADirectChannelAndAdminsOnlyWhenAllowed() {
        #expect(ChannelAccess.memberMayRead(pair, membership: .granted, principal: person("ola")))
        #expect(ChannelAccess.mayJoin(pair, membership: .granted, principal: person("ola")))
        #expect(ChannelAccess.isListed(pair, membership: .granted, principal: person("ola")))
        // A stranger, one whose token lists the name, and an admin: never, by default.
        for principal in [person(), person(claims: [pair.name]), person("boss", [.admin])] {
            #expect(!ChannelAccess.mayJoin(pair, membership: nil, principal: principal))
            #expect(!ChannelAccess.isListed(pair, membership: nil, principal: principal, claimsCount: true))
            #expect(!ChannelAccess.memberMayRead(pair, membership: .joined, principal: principal))
        }
        let admin = person("boss", [.admin])
        #expect(ChannelAccess.mayJoin(pair, membership: nil, principal: admin, adminsReadDirect: true))
        #expect(ChannelAccess.memberMayRead(pair, membership: .joined, principal: admin, adminsReadDirect: true))
        #expect(ChannelAccess.isListed(pair, membership: nil, principal: admin, adminsReadDirect: true))
        #expect(!ChannelAccess.mayJoin(pair, membership: nil, principal: person(), adminsReadDirect: true))
        // Keys never, admin keys included.
        let key = Principal(
            userID: "bot:k", name: "k", roles: [.admin], channels: [], expiresAt: nil,
            kind: .bot(keyID: "k", scopes: ["admin"], channels: [pair.name]))
        #expect(!ChannelAccess.botMay(.read, pair, principal: key))
        #expect(!ChannelAccess.mayJoin(pair, membership: nil, principal: key, adminsReadDirect: true))
    }
}
