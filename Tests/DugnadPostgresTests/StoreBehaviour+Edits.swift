import DugnadCore
import DugnadProtocol
import Testing

/// Edits, deletions and mentions on every store: what a change leaves in storage, what
/// recovery reads, and the mention rows behind the unread counts.
extension StoreBehaviour {
    static let edits: [Behaviour] = [
        Behaviour(
            name: "an edit replaces the body, a deletion empties it, and both are found by recovery",
            check: editsAndDeletionsAreStoredAndRecovered),
        Behaviour(
            name: "mentions keep only members, count until read, and an edit mentions each member once",
            check: mentionsKeepMembersAndCountUntilRead),
    ]

    private static func changed(_ result: Result<WriteOutcome, StoreError>) -> (StoredMessage, Bool)? {
        guard case .success(.changedMessage(let message, let changed)) = result else { return nil }
        return (message, changed)
    }

    static func editsAndDeletionsAreStoredAndRecovered(_ harness: any StoreHarness) throws {
        let store = harness.store
        try expectAllSucceed(
            store,
            [
                .createChannel(name: "kaffe", kind: .public, title: "Kaffe", createdAt: 1),
                .publish(newMessage("m1", channel: "kaffe", body: "en")),
                .publish(newMessage("m2", channel: "kaffe", body: "to", meta: #"{"card":1}"#)),
                .react(messageID: "m2", userID: "u2", emoji: "+1", remove: false, at: 2),
            ])
        let results = try store.write([
            .editMessage(MessageEdit(messageID: "m1", body: "en!", at: 5)),
            .publish(newMessage("m3", channel: "kaffe", body: "tre")),
            .deleteMessage(messageID: "m2", at: 6),
            .deleteMessage(messageID: "m2", at: 7),
            .editMessage(MessageEdit(messageID: "m2", body: "igjen", at: 8)),
            .deleteMessage(messageID: "nothing", at: 9),
        ])
        #expect(changed(results[0])?.0.body == "en!")
        #expect(changed(results[0])?.0.editedAt == 5)
        #expect(changed(results[2])?.0.deleted == true)
        #expect(changed(results[2])?.1 == true)
        #expect(changed(results[3])?.1 == false, "a second deletion changes nothing")
        for index in [4, 5] {
            guard case .failure(let error) = results[index] else {
                Issue.record("op \(index) succeeded")
                continue
            }
            #expect(error.kind == .notFound)
        }

        let history = try store.messages(channel: "kaffe", page: .latest(limit: 10)).messages
        #expect(history.map(\.seq) == [1, 2, 3], "seqs stay gapless")
        #expect(history.map(\.body) == ["en!", "", "tre"])
        #expect(history.map(\.deleted) == [false, true, false])
        #expect(history[1].metaJSON == nil)
        #expect(history[1].editedAt == nil)
        #expect(try store.message(id: "m2")?.body == "")

        // The edit was made while the newest seq was 2, the deletion at 3: a client that
        // has 2 gets both; one that has 3 only the deletion (m1 it got live); 4 nothing.
        #expect(try store.changedMessages(channel: "kaffe", since: 2, limit: 10).messages.map(\.id) == ["m1", "m2"])
        #expect(try store.changedMessages(channel: "kaffe", since: 3, limit: 10).messages.map(\.id) == ["m2"])
        #expect(try store.changedMessages(channel: "kaffe", since: 4, limit: 10).messages.isEmpty)
        let page = try store.changedMessages(channel: "kaffe", since: 2, limit: 1)
        #expect(page.messages.map(\.id) == ["m1"])
        #expect(page.hasMore)
    }

    static func mentionsKeepMembersAndCountUntilRead(_ harness: any StoreHarness) throws {
        let store = harness.store
        try expectAllSucceed(
            store,
            [
                .createChannel(name: "kaffe", kind: .public, title: "Kaffe", createdAt: 1),
                .join(userID: "u1", channel: "kaffe", at: 1),
                .join(userID: "kari", channel: "kaffe", at: 1),
                .join(userID: "ola", channel: "kaffe", at: 1),
            ])
        var mentioning = newMessage("m1", channel: "kaffe", body: "@kari @ghost")
        mentioning.mentionCandidates = ["kari", "ghost"]
        var everyone = newMessage("m2", channel: "kaffe", body: "@channel @kari")
        everyone.mentionCandidates = ["kari"]
        everyone.mentionsChannel = true
        let results = try store.write([.publish(mentioning), .publish(everyone)])
        guard case .success(.message(let first, _)) = results[0], case .success(.message(let second, _)) = results[1] else {
            Issue.record("publishes failed: \(results)")
            return
        }
        #expect(first.mentions == ["kari"], "a non-member is left out")
        #expect(first.newlyMentioned == ["kari"])
        #expect(second.mentions == ["kari"])
        #expect(second.mentionsChannel)
        #expect(Set(second.newlyMentioned) == ["kari", "ola"], "every member but the author, once")
        #expect(try store.message(id: "m2")?.mentionsChannel == true)
        #expect(try store.message(id: "m1")?.mentions == ["kari"])

        func unread(_ userID: String) throws -> Int? {
            try store.memberships(userID: userID).first { $0.channel.name == "kaffe" }?.unreadMentions
        }
        #expect(try unread("kari") == 2)
        #expect(try unread("ola") == 1)
        #expect(try unread("u1") == 0)
        let directory = try store.channelDirectory(DirectoryPageRequest(userID: "kari", folded: nil, afterName: nil, limit: 5))
        #expect(directory.entries.first?.unreadMentions == 2)

        try expectAllSucceed(store, [.markRead(userID: "kari", channel: "kaffe", seq: 1)])
        #expect(try unread("kari") == 1)

        // An edit that adds Ola to m1 mentions Ola; repeating it mentions nobody new.
        let edits = try store.write([
            .editMessage(MessageEdit(messageID: "m1", body: "@kari @ola", at: 5, mentionCandidates: ["kari", "ola"])),
            .editMessage(MessageEdit(messageID: "m1", body: "@ola @kari!", at: 6, mentionCandidates: ["ola", "kari"])),
        ])
        #expect(changed(edits[0])?.0.newlyMentioned == ["ola"])
        #expect(changed(edits[0])?.0.mentions == ["kari", "ola"])
        #expect(changed(edits[1])?.0.newlyMentioned == [])
        #expect(try unread("ola") == 2)

        try expectAllSucceed(store, [.deleteMessage(messageID: "m2", at: 7)])
        #expect(try unread("ola") == 1, "a deleted message's mentions go")
        #expect(try store.message(id: "m2")?.mentions == [])
    }
}
