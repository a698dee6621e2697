import ArgumentParser
import DugnadCore
import DugnadProtocol
import Foundation

struct Channels: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage channels and who is in them, in a hub's data folder (or its --database).",
        discussion: """
            Safe beside a running hub: every change is written with its entry in the audit log \
            (actor 'cli'), which each running hub node reads within a second and applies to its \
            open connections.
            """,
        subcommands: [Create.self, List.self, AddMember.self, RemoveMember.self, Members.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a channel (private and announce channels are made this way).",
            discussion: """
                Audited as channel.created, with the kind and the title.

                Example: dugnad channels create all-staff --kind announce --title 'All staff'
                """)

        @Argument(help: "Channel name: ^[a-z0-9][a-z0-9._-]{0,63}$")
        var name: String

        @Option(help: "public, private or announce.")
        var kind: String = "public"

        @Option(help: "Title shown to people, 1 to \(Limits.maxTitleCharacters) characters (default: the name).")
        var title: String?

        @OptionGroup var storage: StoreOptions

        func validate() throws {
            try AdminInput.checkChannelName(name)
            guard let kind = ChannelKind(rawValue: kind), ChannelKind.creatable.contains(kind) else {
                throw ValidationError("--kind must be public, private or announce.")
            }
            guard !DirectChannelName.isReserved(name) else {
                throw ValidationError(
                    "'\(name)' has the form of a direct channel's name (dm- and 32 hex digits): choose another.")
            }
            if let title, title.isEmpty || title.count > Limits.maxTitleCharacters {
                throw ValidationError("--title must be 1 to \(Limits.maxTitleCharacters) characters.")
            }
        }

        func run() async throws {
            let kind = ChannelKind(rawValue: kind) ?? .public
            let title = title ?? name
            // The entry Hub.createChannel writes for POST /api/v1/channels.
            let entry = AdminAction.entry(
                .channelCreated, target: name, detail: [("kind", .string(kind.rawValue)), ("title", .string(title))])
            let result = try AdminAction.run(
                .createChannel(name: name, kind: kind, title: title, createdAt: entry.at), entry, on: storage.openStore())
            guard case .success(.channel(let record, let created)) = result else {
                throw CommandFailure("could not create the channel: \(String(describing: result))")
            }
            guard created else {
                throw CommandFailure("channel '\(name)' exists already (\(record.kind.rawValue)); nothing was changed")
            }
            print("created \(record.kind.rawValue) channel \(record.name) (\(record.title))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List channels: name, kind, last seq, title.")

        @OptionGroup var storage: StoreOptions

        func run() async throws {
            for channel in try storage.openStore().allChannels() {
                print("\(channel.name)\t\(channel.kind.rawValue)\t\(channel.lastSeq)\t\(tableCell(channel.title))")
            }
        }
    }
}
