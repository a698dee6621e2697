import ArgumentParser
import DugnadCore
import Foundation

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage people: the directory (so that announcements to all reach people who never connected), and bans.",
        discussion: """
            Safe beside a running hub: every change is written with its entry in the audit log \
            (actor 'cli'), which each running hub node reads within a second and applies.
            """,
        subcommands: [Import.self, Ban.self, Unban.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import users from a CSV file with the columns id, name, roles (as Excel saves it).",
            discussion: """
                One user per line. The first line may be a header naming the columns in any order and \
                case (id,name,roles); without one, the columns are id, name, roles. Fields are separated \
                by ',' or ';' (Norwegian Excel) or tabs: whichever the first line uses. A field in double \
                quotes may hold the separator, line breaks and "" for a quote.

                roles: member, leader or admin; several separated by spaces, ';', ',' or '|' (the file's own \
                field separator only inside a quoted field: "leader;member"). Empty roles: member. Empty \
                name: the id.

                The file is UTF-8 (Excel: "CSV UTF-8"), with or without a byte-order mark, with Windows \
                (CRLF) or Unix line endings; blank lines are skipped. Every line is checked first: if \
                any is wrong, nothing is imported and each wrong line is named. Importing an id again \
                updates its name and roles. Audited as users.imported, with the count.

                Examples, with a header and ',':
                  id,name,roles
                  u42,"Nordmann, Kari",leader member
                  u43,Ola Nordmann,

                without a header, with ';' (as Norwegian Excel saves CSV):
                  u42;Kari Nordmann;leader,member
                  u43;"Åse Ødegård";"leader;admin"
                """)

        @Argument(help: "The CSV file.")
        var file: String

        @OptionGroup var storage: StoreOptions

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CommandFailure("cannot read \(file)") }
            let users: [UserRecord]
            do {
                users = try UserCSV.users(from: data)
            } catch {
                throw CommandFailure("nothing was imported from \(file):\n\(error)")
            }
            // The entry Hub.importUsers writes for POST /api/v1/users.
            let entry = AdminAction.entry(
                .usersImported, target: "directory", detail: [("count", .int(Int64(users.count)))])
            let result = try AdminAction.run(.importUsers(users), entry, on: storage.openStore())
            guard case .success = result else { throw CommandFailure("could not import: \(String(describing: result))") }
            print("imported \(users.count) users")
        }
    }
}
