import Testing

@testable import DugnadCore

/// `PresenceState` with other nodes: presence is the union of every node's, diffs describe
/// the union, and a node's own changes are collected for the others.
@Suite struct PresenceStateNodesTests {
    private let kari = PresenceState.Member(id: "u42", name: "Kari")
    private let ola = PresenceState.Member(id: "u7", name: "Ola")

    private func change(_ channel: String, _ user: PresenceState.Member, _ present: Bool) -> PresenceState.Change {
        PresenceState.Change(channel: channel, user: user, present: present)
    }

    @Test func aUserOnAnotherNodeIsPresentAndOnlineHere() {
        var state = PresenceState(sharedWithOtherNodes: true)
        state.join(channel: "general", user: ola)
        _ = state.drainDiffs()
        state.apply([change("", kari, true), change("general", kari, true)], from: "n_a")
        #expect(state.members(channel: "general") == [kari, ola])
        #expect(state.count(channel: "general") == 2)
        #expect(state.isOnline(kari.id))
        #expect(state.connections(of: kari.id) == 0, "the per-user connection limit counts this node only")
        #expect(state.onlineUserCount == 1, "ola joined a channel without connecting: only kari is online")
        #expect(state.drainDiffs() == [PresenceState.Diff(channel: "general", joins: [kari], leaves: [], count: 2)])
    }

    @Test func aUserPresentOnTwoNodesLeavesOnlyWhenBothLetGo() {
        var state = PresenceState(sharedWithOtherNodes: true)
        state.join(channel: "general", user: kari)
        state.apply([change("general", kari, true)], from: "n_a")
        #expect(state.drainDiffs() == [PresenceState.Diff(channel: "general", joins: [kari], leaves: [], count: 1)])

        state.leave(channel: "general", userID: kari.id)
        #expect(state.drainDiffs().isEmpty, "still present on n_a")
        #expect(state.members(channel: "general") == [kari])

        state.apply([change("general", kari, false)], from: "n_a")
        #expect(state.drainDiffs() == [PresenceState.Diff(channel: "general", joins: [], leaves: [kari], count: 0)])
    }

    @Test func applyingTheSameChangeTwiceChangesNothing() {
        var state = PresenceState(sharedWithOtherNodes: true)
        state.apply([change("general", kari, true)], from: "n_a")
        _ = state.drainDiffs()
        state.apply([change("general", kari, true)], from: "n_a")
        #expect(state.drainDiffs().isEmpty)
        state.apply([change("general", ola, false)], from: "n_a")
        #expect(state.drainDiffs().isEmpty)
    }

    @Test func forgettingANodeMakesItsUsersLeaveUnlessKeptElsewhere() {
        var state = PresenceState(sharedWithOtherNodes: true)
        state.join(channel: "general", user: ola)
        state.apply([change("", kari, true), change("general", kari, true), change("general", ola, true)], from: "n_a")
        _ = state.drainDiffs()

        state.forgetNode("n_a")
        #expect(state.drainDiffs() == [PresenceState.Diff(channel: "general", joins: [], leaves: [kari], count: 1)])
        #expect(!state.isOnline(kari.id))
        #expect(state.remoteNodeIDs.isEmpty)
    }

    @Test func aSnapshotReplacesWhatWasKnownOfTheNode() {
        var state = PresenceState(sharedWithOtherNodes: true)
        state.apply([change("general", kari, true), change("random", kari, true)], from: "n_a")
        _ = state.drainDiffs()
        state.replace(
            with: PresenceState.Snapshot(channels: ["general": [kari, ola]], online: [kari.id, ola.id]), from: "n_a")
        let diffs = state.drainDiffs()
        #expect(
            diffs == [
                PresenceState.Diff(channel: "general", joins: [ola], leaves: [], count: 2),
                PresenceState.Diff(channel: "random", joins: [], leaves: [kari], count: 0),
            ])
        #expect(state.isOnline(ola.id))
    }

    @Test func ownChangesAreCollectedForTheOtherNodesWithTheLastStateWinning() {
        var state = PresenceState(sharedWithOtherNodes: true)
        state.connect(userID: kari.id)
        state.join(channel: "general", user: kari)
        state.join(channel: "general", user: ola)
        state.leave(channel: "general", userID: ola.id)
        state.join(channel: "general", user: kari)
        let changes = state.drainOutgoing()
        #expect(
            changes == [
                change("", PresenceState.Member(id: kari.id, name: ""), true),
                change("general", kari, true),
                change("general", ola, false),
            ])
        #expect(state.drainOutgoing().isEmpty)
        #expect(
            state.localSnapshot() == PresenceState.Snapshot(channels: ["general": [kari]], online: [kari.id]))
    }

    @Test func remoteNodesDoNotLeakIntoTheLocalSnapshot() {
        var state = PresenceState(sharedWithOtherNodes: true)
        state.apply([change("general", kari, true), change("", kari, true)], from: "n_a")
        #expect(state.localSnapshot() == PresenceState.Snapshot())
        #expect(state.drainOutgoing().isEmpty)
        #expect(state.onlineUserIDs == [kari.id])
        #expect(state.localOnlineUserIDs.isEmpty)
    }

    @Test func aNodeAloneRecordsNothingForOthersButStillDiffs() {
        var state = PresenceState()
        state.connect(userID: kari.id)
        state.join(channel: "general", user: kari)
        #expect(state.drainOutgoing().isEmpty)
        #expect(state.drainDiffs().map(\.joins) == [[kari]])
        #expect(state.members(channel: "general") == [kari])
    }
}
