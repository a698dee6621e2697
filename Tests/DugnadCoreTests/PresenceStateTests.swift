import Testing

@testable import DugnadCore

/// `PresenceState`: presence is per user, not per connection, and diffs are coalesced
/// between drains so that a flap inside one window is invisible to others.
@Suite struct PresenceStateTests {
    private let kari = PresenceState.Member(id: "u42", name: "Kari")
    private let ola = PresenceState.Member(id: "u7", name: "Ola")

    /// State with `members` present in `channel` and nothing pending.
    private func settled(_ channel: String, _ members: PresenceState.Member...) -> PresenceState {
        var state = PresenceState()
        for member in members { state.join(channel: channel, user: member) }
        _ = state.drainDiffs()
        return state
    }

    // MARK: Joining and leaving

    @Test func firstConnectionMakesTheUserPresent() {
        var state = PresenceState()
        let changed = state.join(channel: "general", user: kari)
        #expect(changed)
        #expect(state.members(channel: "general") == [kari])
        #expect(state.count(channel: "general") == 1)
    }

    @Test func userWithSeveralConnectionsIsOneEntry() {
        var state = PresenceState()
        var changed = state.join(channel: "general", user: kari)
        #expect(changed)
        changed = state.join(channel: "general", user: kari)
        #expect(!changed)
        changed = state.join(channel: "general", user: kari)
        #expect(!changed)
        #expect(state.members(channel: "general") == [kari])
        #expect(state.count(channel: "general") == 1)
        let diffs = state.drainDiffs()
        #expect(diffs.count == 1)
        #expect(diffs.first?.joins == [kari])
    }

    @Test func userLeavesOnlyWhenTheLastConnectionGoes() {
        var state = settled("general", kari, kari, kari)
        var changed = state.leave(channel: "general", userID: kari.id)
        #expect(!changed)
        changed = state.leave(channel: "general", userID: kari.id)
        #expect(!changed)
        #expect(state.members(channel: "general") == [kari])
        var diffs = state.drainDiffs()
        #expect(diffs.isEmpty)

        changed = state.leave(channel: "general", userID: kari.id)
        #expect(changed)
        #expect(state.members(channel: "general").isEmpty)
        #expect(state.count(channel: "general") == 0)
        diffs = state.drainDiffs()
        #expect(diffs == [PresenceState.Diff(channel: "general", joins: [], leaves: [kari], count: 0)])
    }

    @Test func leavingAChannelOneIsNotInChangesNothing() {
        var state = settled("general", kari)
        var changed = state.leave(channel: "general", userID: ola.id)
        #expect(!changed)
        changed = state.leave(channel: "random", userID: kari.id)
        #expect(!changed)
        #expect(state.members(channel: "general") == [kari])
        let diffs = state.drainDiffs()
        #expect(diffs.isEmpty)
    }

    @Test func presenceIsPerChannel() {
        var state = PresenceState()
        state.join(channel: "general", user: kari)
        state.join(channel: "random", user: kari)
        state.join(channel: "random", user: ola)
        let changed = state.leave(channel: "general", userID: kari.id)
        #expect(changed)
        #expect(state.members(channel: "general").isEmpty)
        #expect(state.members(channel: "random") == [kari, ola])
        #expect(state.count(channel: "random") == 2)
    }

    @Test func membersAreOrderedByID() {
        let state = settled(
            "general", PresenceState.Member(id: "c", name: "C"), PresenceState.Member(id: "a", name: "A"),
            PresenceState.Member(id: "b", name: "B"))
        #expect(state.members(channel: "general").map(\.id) == ["a", "b", "c"])
    }

    // MARK: Diffs

    @Test func diffsCarryJoinsLeavesAndTheCountAfterwards() {
        var state = settled("general", kari)
        state.join(channel: "general", user: ola)
        state.leave(channel: "general", userID: kari.id)
        let diffs = state.drainDiffs()
        #expect(diffs == [PresenceState.Diff(channel: "general", joins: [ola], leaves: [kari], count: 1)])
    }

    @Test func joinThenLeaveInOneWindowCancelOut() {
        var state = PresenceState()
        state.join(channel: "general", user: kari)
        state.leave(channel: "general", userID: kari.id)
        let diffs = state.drainDiffs()
        #expect(diffs.isEmpty)
    }

    @Test func leaveThenJoinInOneWindowCancelOut() {
        var state = settled("general", kari)
        state.leave(channel: "general", userID: kari.id)
        state.join(channel: "general", user: kari)
        let diffs = state.drainDiffs()
        #expect(diffs.isEmpty)
        #expect(state.members(channel: "general") == [kari])
    }

    @Test func flappingEndsWithTheNetChange() {
        var state = settled("general", kari)
        state.leave(channel: "general", userID: kari.id)
        state.join(channel: "general", user: kari)
        state.leave(channel: "general", userID: kari.id)
        var diffs = state.drainDiffs()
        #expect(diffs == [PresenceState.Diff(channel: "general", joins: [], leaves: [kari], count: 0)])

        state.join(channel: "general", user: ola)
        state.leave(channel: "general", userID: ola.id)
        state.join(channel: "general", user: ola)
        diffs = state.drainDiffs()
        #expect(diffs == [PresenceState.Diff(channel: "general", joins: [ola], leaves: [], count: 1)])
    }

    @Test func cancellingOutInOneChannelLeavesOthersDiffs() {
        var state = PresenceState()
        state.join(channel: "general", user: kari)
        state.leave(channel: "general", userID: kari.id)
        state.join(channel: "random", user: ola)
        let diffs = state.drainDiffs()
        #expect(diffs == [PresenceState.Diff(channel: "random", joins: [ola], leaves: [], count: 1)])
    }

    @Test func diffsComeOneAChannelSortedByChannelAndUser() {
        var state = PresenceState()
        state.join(channel: "random", user: kari)
        state.join(channel: "general", user: kari)
        state.join(channel: "general", user: ola)
        let diffs = state.drainDiffs()
        #expect(diffs.map(\.channel) == ["general", "random"])
        #expect(diffs.first?.joins.map(\.id) == ["u42", "u7"])
        #expect(diffs.first?.count == 2)
    }

    @Test func drainDiffsEmptiesThePending() {
        var state = PresenceState()
        state.join(channel: "general", user: kari)
        var diffs = state.drainDiffs()
        #expect(diffs.count == 1)
        diffs = state.drainDiffs()
        #expect(diffs.isEmpty)
    }

    @Test func extraConnectionsDoNotProduceDiffs() {
        var state = settled("general", kari)
        state.join(channel: "general", user: kari)
        state.leave(channel: "general", userID: kari.id)
        let diffs = state.drainDiffs()
        #expect(diffs.isEmpty)
        #expect(state.members(channel: "general") == [kari])
    }

    // MARK: Online anywhere on the hub

    @Test func userIsOnlineUntilTheLastConnectionDisconnects() {
        var state = PresenceState()
        #expect(!state.isOnline(kari.id))
        state.connect(userID: kari.id)
        state.connect(userID: kari.id)
        #expect(state.isOnline(kari.id))
        state.disconnect(userID: kari.id)
        #expect(state.isOnline(kari.id))
        state.disconnect(userID: kari.id)
        #expect(!state.isOnline(kari.id))
    }

    @Test func onlineUserCountCountsUsersNotConnections() {
        var state = PresenceState()
        state.connect(userID: kari.id)
        state.connect(userID: kari.id)
        state.connect(userID: ola.id)
        #expect(state.onlineUserCount == 2)
        state.disconnect(userID: ola.id)
        #expect(state.onlineUserCount == 1)
    }

    @Test func disconnectOfAnUnknownUserChangesNothing() {
        var state = PresenceState()
        state.connect(userID: kari.id)
        state.disconnect(userID: ola.id)
        #expect(state.onlineUserCount == 1)
        #expect(!state.isOnline(ola.id))
    }

    @Test func onlineIsIndependentOfChannelPresence() {
        var state = PresenceState()
        state.connect(userID: kari.id)
        #expect(state.isOnline(kari.id))
        #expect(state.count(channel: "general") == 0)
        state.join(channel: "general", user: ola)
        #expect(!state.isOnline(ola.id))
    }
}
