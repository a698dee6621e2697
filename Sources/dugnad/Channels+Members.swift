import ArgumentParser
import DugnadCore
import DugnadProtocol
import Foundation

/// The CLI twins of `PUT`, `DELETE` and `GET /api/v1/channels/{name}/members[/{user}]`.
extension Channels {
    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a user a member of a channel (an admin's grant: it gives access to a private channel).",
            discussion: """
                The grant lasts until `dugnad channels remove-member`, whatever the user's token says. \
                Audited as member.added; says whether the grant is new (a user who had joined before \
                is granted now too).

                Example: dugnad channels add-member board kari
                """)

        @Argument(help: "Channel name.")
        var channel: String

        @Argument(help: "User id (the token's sub).")
        var user: String

        @OptionGroup var storage: StoreOptions

        func validate() throws {
            try AdminInput.checkChannelName(channel)
            try AdminInput.checkUserID(user)
        }

        func run() async throws {
            // The entry Hub.addMember writes for PUT /api/v1/channels/{name}/members/{user}.
            let entry = AdminAction.entry(.memberAdded, target: channel, detail: [("user", .string(user))])
            let result = try AdminAction.run(
                .grantMembership(userID: user, channel: channel, at: entry.at), entry, on: storage.openStore())
            switch result {
            case .success(.membership(_, _, let created)):
                print(
                    created
                        ? "granted \(tableCell(user)) membership of \(channel) (new)"
                        : "\(tableCell(user)) already had a granted membership of \(channel); nothing was changed")
            case .failure(let error) where error.kind == .notFound:
                throw CommandFailure(Channels.unknown(channel))
            default:
                throw CommandFailure("could not grant the membership: \(String(describing: result))")
            }
        }
    }

    struct RemoveMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a user's membership of a channel, however it came about.",
            discussion: """
                Audited as member.removed: a running hub ends the user's subscriptions to the channel \
                within a second, each with {"type":"removed","channel":...,"reason":"removed_by_admin"}. \
                A user whose token lists a private channel may join it again; take it out of the \
                token's channels claim too.

                Example: dugnad channels remove-member board kari
                """)

        @Argument(help: "Channel name.")
        var channel: String

        @Argument(help: "User id (the token's sub).")
        var user: String

        @OptionGroup var storage: StoreOptions

        func validate() throws {
            try AdminInput.checkChannelName(channel)
            try AdminInput.checkUserID(user)
        }

        func run() async throws {
            let store = try storage.openStore()
            guard try store.channel(named: channel) != nil else { throw CommandFailure(Channels.unknown(channel)) }
            // The entry Hub.removeMember writes for DELETE /api/v1/channels/{name}/members/{user}.
            let entry = AdminAction.entry(.memberRemoved, target: channel, detail: [("user", .string(user))])
            let result = try AdminAction.run(.revokeMembership(userID: user, channel: channel), entry, on: store)
            guard case .success(let outcome) = result else {
                throw CommandFailure("could not remove the membership: \(String(describing: result))")
            }
            print(
                outcome.changedSomething
                    ? "removed \(tableCell(user)) from \(channel)"
                    : "\(tableCell(user)) was not a member of \(channel); nothing was changed")
        }
    }

    struct Members: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a channel's members, ordered by id: id, name, last seen (UTC; '-' for never).",
            discussion: """
                A page at a time: when more follow, the command for the next page is printed on \
                standard error.

                Example: dugnad channels members board --limit 50
                """)

        @Argument(help: "Channel name.")
        var channel: String

        @Option(help: ArgumentHelp("List the members after this user id (the next page).", valueName: "id"))
        var after: String?

        @Option(help: "Most members to list, 1 to \(Limits.maxMembersLimit).")
        var limit = Limits.defaultMembersLimit

        @OptionGroup var storage: StoreOptions

        func validate() throws {
            try AdminInput.checkChannelName(channel)
            guard (1...Limits.maxMembersLimit).contains(limit) else {
                throw ValidationError("--limit must be 1 to \(Limits.maxMembersLimit).")
            }
        }

        func run() async throws {
            let store = try storage.openStore()
            guard try store.channel(named: channel) != nil else { throw CommandFailure(Channels.unknown(channel)) }
            let page = try store.members(channel: channel, afterUserID: after, limit: limit)
            print("id\tname\tlast seen")
            for member in page.members {
                print(
                    [tableCell(member.id), tableCell(member.name), member.lastSeen.map(isoDate) ?? "-"].joined(separator: "\t"))
            }
            if page.hasMore, let last = page.members.last {
                FileHandle.standardError.write(
                    Data("more members follow: add --after '\(tableCell(last.id))' for the next page\n".utf8))
            }
        }
    }

    /// The refusal for a channel the store does not have.
    static func unknown(_ channel: String) -> String {
        "no channel '\(channel)': see dugnad channels list, or make it with dugnad channels create"
    }
}
