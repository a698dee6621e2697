import DugnadCore
import DugnadProtocol

/// How the CLI stores an admin action: with its audit entry, in one savepoint
/// (`WriteOp.audited`), exactly as the hub's HTTP twins (`Hub.addMember`, `Hub.ban`, …)
/// store theirs. Every running hub node reads the audit log every
/// `HubConfiguration.governanceCheckMillis` and applies what it finds (a `member.removed`
/// ends the user's subscriptions, a `user.banned` closes the user's sockets), so an action
/// taken here beside a running hub reaches its open connections within a second.
enum AdminAction {
    /// The audit log's actor for every action taken from the command line on the hub's
    /// machine (the HTTP API writes the admin's user id instead).
    static let actor = AuditEntry.cliActor

    /// A new entry by the CLI, at `at` (default: now).
    static func entry(
        _ action: AuditAction, target: String, detail: [(String, JSONValue)] = [], at: Int64 = WallClock.nowMillis()
    ) -> AuditEntry {
        AuditEntry.make(actor: actor, action, target: target, detail: detail, at: at)
    }

    /// Runs `op` and records `entry` when it changed something. A failure of the op itself
    /// (an unknown channel, a name taken) is returned, not thrown, so that each command says
    /// it in its own words; a store that cannot commit throws.
    static func run(_ op: WriteOp, _ entry: AuditEntry, on store: any Store) throws -> Result<WriteOutcome, StoreError> {
        guard let result = try store.write([.audited(op, entry)]).first else {
            return .failure(StoreError(.unavailable, "the store returned no result for: \(op.action)"))
        }
        return result
    }
}
