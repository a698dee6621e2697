import ArgumentParser
import DugnadCore
import DugnadProtocol
import Foundation

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage API keys for bots and integrations.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key; it is printed once and stored only as a hash.",
            discussion: "Example: dugnad keys create --name deploy-bot --scope publish,announce")

        @Option(help: "A name for the key (shown in listings and as the bot's display name).")
        var name: String

        @Option(help: "Comma-separated scopes: publish, announce, read, admin.")
        var scope: String

        @Option(name: .customLong("channel"), help: "Private channel the key may reach (repeatable).")
        var channels: [String] = []

        @OptionGroup var storage: StoreOptions

        func validate() throws {
            guard !name.isEmpty, name.count <= 100 else { throw ValidationError("--name must be 1 to 100 characters.") }
            for scope in scopes where !APIKeys.scopes.contains(scope) {
                throw ValidationError("Unknown scope '\(scope)': use publish, announce, read or admin.")
            }
            guard !scopes.isEmpty else { throw ValidationError("Give at least one --scope.") }
            for channel in channels where !ChannelName.isValid(channel) {
                throw ValidationError("'\(channel)' is not a valid channel name.")
            }
        }

        var scopes: [String] {
            scope.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }

        func run() async throws {
            let (key, record) = APIKeys.make(name: name, scopes: scopes, channels: channels, now: WallClock.nowMillis())
            let result = try storage.openStore().write([.createAPIKey(record)]).first
            guard case .success = result else { throw ValidationError("Could not store the key: \(String(describing: result))") }
            print(key)
            FileHandle.standardError.write(
                Data(
                    "created key \(record.id) '\(name)' with scopes \(record.scopes.joined(separator: ",")); it is shown only this once\n"
                        .utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never the keys themselves).")

        @OptionGroup var storage: StoreOptions

        func run() async throws {
            print("id\tname\tscopes\tchannels\tcreated\trevoked")
            for key in try storage.openStore().apiKeys() {
                print(
                    [
                        key.id, key.name, key.scopes.joined(separator: ","), key.channels.joined(separator: ","),
                        isoDate(key.createdAt), key.revokedAt.map(isoDate) ?? "-",
                    ].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key by id or name; a running hub closes its connections within a second (4500).")

        @Argument(help: "The key's id (k_…) or name.")
        var key: String

        @OptionGroup var storage: StoreOptions

        func run() async throws {
            let result = try storage.openStore().write([.revokeAPIKey(idOrName: key, at: WallClock.nowMillis())]).first
            guard case .success(.apiKey(let record)) = result else { throw ValidationError("No live key '\(key)'.") }
            print("revoked \(record.id) '\(record.name)'")
        }
    }
}

func isoDate(_ millis: Int64) -> String {
    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
}
