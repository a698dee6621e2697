import DugnadProtocol
import Testing

@testable import DugnadCore

/// The directory's rules on their own: which channels a listing shows to whom, and how a
/// name and title are folded for the query.
@Suite struct DirectoryRulesTests {
    private let board = ChannelRecord(name: "board", kind: .private, title: "Board", epoch: "e_1", lastSeq: 0, createdAt: 0)
    private let general = ChannelRecord(
        name: "general", kind: .public, title: "General", epoch: "e_1", lastSeq: 0, createdAt: 0)

    private func person(_ roles: Set<Role> = [.member], claims: Set<String> = []) -> Principal {
        Principal(userID: "ola", name: "Ola", roles: roles, channels: claims, expiresAt: nil)
    }

    @Test func aPrivateChannelIsListedOnlyToMembersWithAccessAndAdmins() {
        #expect(ChannelAccess.isListed(general, membership: nil, principal: person()))
        #expect(!ChannelAccess.isListed(board, membership: nil, principal: person()))
        #expect(!ChannelAccess.isListed(board, membership: nil, principal: person(claims: ["board"])))
        #expect(ChannelAccess.isListed(board, membership: nil, principal: person(claims: ["board"]), claimsCount: true))
        #expect(ChannelAccess.isListed(board, membership: .granted, principal: person()))
        #expect(!ChannelAccess.isListed(board, membership: .joined, principal: person()), "a claim that lapsed")
        #expect(ChannelAccess.isListed(board, membership: .joined, principal: person(claims: ["board"])))
        #expect(ChannelAccess.isListed(board, membership: nil, principal: person([.admin])))
    }

    @Test func foldingComposesAndLowersNorwegianLetters() {
        #expect(ChannelSearchKey.fold("ÆØÅ Årsmøtet") == "æøå årsmøtet")
        // "å" typed as "a" and a combining ring (as some keyboards and macOS file names do).
        #expect(ChannelSearchKey.fold("A\u{030A}RSMØ") == "årsmø")
        #expect(ChannelSearchKey.of(name: "aarsmote", title: "Årsmøtet 2027") == "aarsmote\nårsmøtet 2027")
    }
}
