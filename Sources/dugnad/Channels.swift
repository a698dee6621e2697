import ArgumentParser
import DugnadCore
import DugnadProtocol
import Foundation

struct Channels: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage channels in a hub's data folder.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a channel (private and announce channels are made this way).",
            discussion: "Example: dugnad channels create all-staff --kind announce --title 'All staff'")

        @Argument(help: "Channel name: ^[a-z0-9][a-z0-9._-]{0,63}$")
        var name: String

        @Option(help: "public, private or announce.")
        var kind: String = "public"

        @Option(help: "Title shown to people (default: the name).")
        var title: String?

        @OptionGroup var storage: StoreOptions

        func validate() throws {
            guard ChannelName.isValid(name) else { throw ValidationError("'\(name)' is not a valid channel name.") }
            guard ChannelKind(rawValue: kind) != nil else { throw ValidationError("--kind must be public, private or announce.") }
        }

        func run() async throws {
            let store = try storage.openStore()
            let results = try store.write([
                .createChannel(name: name, kind: ChannelKind(rawValue: kind)!, title: title ?? name, createdAt: WallClock.nowMillis())
            ])
            guard case .success(.channel(let record, let created)) = results.first else {
                throw ValidationError("Could not create the channel: \(String(describing: results.first))")
            }
            guard created else { throw ValidationError("Channel '\(name)' exists already (\(record.kind.rawValue)).") }
            print("created \(record.kind.rawValue) channel \(record.name) (\(record.title))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List channels.")

        @OptionGroup var storage: StoreOptions

        func run() async throws {
            for channel in try storage.openStore().allChannels() {
                print("\(channel.name)\t\(channel.kind.rawValue)\t\(channel.lastSeq)\t\(channel.title)")
            }
        }
    }
}
