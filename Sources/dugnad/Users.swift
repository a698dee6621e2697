import ArgumentParser
import DugnadCore
import Foundation

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the people directory (so that announcements to all reach people who never connected).",
        subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import users from a CSV file with columns id,name,roles (roles separated by ';').",
            discussion: "Example line: u42,Kari Nordmann,leader;member")

        @Argument(help: "The CSV file.")
        var file: String

        @OptionGroup var storage: StoreOptions

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("Cannot read \(file).") }
            let users: [UserRecord]
            do {
                users = try UserDirectory.records(csv: String(decoding: data, as: UTF8.self))
            } catch {
                throw ValidationError(error.message)
            }
            let result = try storage.openStore().write([.importUsers(users)]).first
            guard case .success = result else { throw ValidationError("Could not import: \(String(describing: result))") }
            print("imported \(users.count) users")
        }
    }
}
