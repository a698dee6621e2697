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
            discussion: """
                Audited as key.created, with the key's id, name and scopes (never the key).

                Example: dugnad keys create --name deploy-bot --scope publish,announce
                """)

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
            // The key's id, name and scopes; never the key (nor its hash).
            let entry = AdminAction.entry(
                .keyCreated, target: record.id,
                detail: [("name", .string(record.name)), ("scopes", .array(record.scopes.map(JSONValue.string)))],
                at: record.createdAt)
            let result = try AdminAction.run(.createAPIKey(record), entry, on: storage.openStore())
            switch result {
            case .success: break
            case .failure(let error) where error.kind == .conflict:
                throw CommandFailure("a live key is named '\(name)' already: revoke it first, or choose another --name")
            case .failure(let error):
                throw CommandFailure("could not store the key: \(error)")
            }
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
            abstract: "Revoke a key by id or name; a running hub closes its connections within a second (4500).",
            discussion: "Audited as key.revoked, with the key's id and name.")

        @Argument(help: "The key's id (k_…) or name.")
        var key: String

        @OptionGroup var storage: StoreOptions

        func run() async throws {
            let store = try storage.openStore()
            // The live key the store's revocation would take (by id first, then by name),
            // found first so that the audit entry names it by its id.
            let live = try store.apiKeys().filter { $0.revokedAt == nil }
            guard let found = live.first(where: { $0.id == key }) ?? live.first(where: { $0.name == key }) else {
                throw CommandFailure("no live key '\(key)': see dugnad keys list")
            }
            let entry = AdminAction.entry(.keyRevoked, target: found.id, detail: [("name", .string(found.name))])
            let result = try AdminAction.run(.revokeAPIKey(idOrName: found.id, at: entry.at), entry, on: store)
            guard case .success(.apiKey(let record)) = result else {
                throw CommandFailure("no live key '\(key)' (revoked meanwhile?): see dugnad keys list")
            }
            print("revoked \(record.id) '\(record.name)'")
        }
    }
}

func isoDate(_ millis: Int64) -> String {
    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
}
