import ArgumentParser
import DugnadCore
import DugnadProtocol

/// The CLI twins of `POST` and `DELETE /api/v1/users/{id}/ban`.
extension Users {
    struct Ban: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ban a user: a running hub closes the user's connections within a second (4500 banned).",
            discussion: """
                New connections are refused with 4500 banned and HTTP requests with 403, whatever \
                token the user holds, until `dugnad users unban`. Banning again replaces the reason. \
                Audited as user.banned, with the reason.

                Example: dugnad users ban ola --reason 'Spam in #general'
                """)

        @Argument(help: "User id (the token's sub).")
        var user: String

        @Option(help: "Why, for the audit log (at most \(AdminInput.maxReasonCharacters) characters).")
        var reason: String?

        @OptionGroup var storage: StoreOptions

        func validate() throws {
            try AdminInput.checkUserID(user)
            if let reason { try AdminInput.checkReason(reason) }
        }

        func run() async throws {
            let now = WallClock.nowMillis()
            let record = BanRecord(userID: user, bannedAt: now, bannedBy: AdminAction.actor, reason: reason)
            // The entry Hub.ban writes for POST /api/v1/users/{id}/ban.
            let entry = AdminAction.entry(
                .userBanned, target: user, detail: reason.map { [("reason", .string($0))] } ?? [], at: now)
            let result = try AdminAction.run(.ban(record), entry, on: storage.openStore())
            guard case .success = result else { throw CommandFailure("could not ban: \(String(describing: result))") }
            print("banned \(tableCell(user))" + (reason.map { " (\(tableCell($0)))" } ?? ""))
        }
    }

    struct Unban: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift a user's ban: the user may connect again.",
            discussion: """
                Audited as user.unbanned (only when there was a ban).

                Example: dugnad users unban ola
                """)

        @Argument(help: "User id (the token's sub).")
        var user: String

        @OptionGroup var storage: StoreOptions

        func validate() throws {
            try AdminInput.checkUserID(user)
        }

        func run() async throws {
            // The entry Hub.unban writes for DELETE /api/v1/users/{id}/ban.
            let entry = AdminAction.entry(.userUnbanned, target: user)
            let result = try AdminAction.run(.unban(userID: user), entry, on: storage.openStore())
            guard case .success(let outcome) = result else {
                throw CommandFailure("could not lift the ban: \(String(describing: result))")
            }
            print(
                outcome.changedSomething
                    ? "lifted the ban of \(tableCell(user))" : "\(tableCell(user)) was not banned; nothing was changed")
        }
    }
}
