import DugnadTokens
import ArgumentParser
import DugnadCore

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a signed HS256 JWT for a user.",
        discussion: "Example: dugnad token --sub u42 --name Kari --role leader --ttl 8h")

    @Option(help: "User id (the token's `sub`).")
    var sub: String

    @Option(help: "Display name (default: the user id).")
    var name: String?

    @Option(name: .customLong("role"), help: "Role: member, leader or admin (repeatable; default member).")
    var roles: [String] = []

    @Option(name: .customLong("channel"), help: "Private channel the user may join (repeatable).")
    var channels: [String] = []

    @Option(
        help: ArgumentHelp(
            "Accepted like the other commands (a PostgreSQL URL); a token needs no database, only the secret.",
            valueName: "url"))
    var database: String?

    @Option(help: "Lifetime, e.g. 90s, 15m, 8h, 7d.")
    var ttl: Duration_ = Duration_(argument: "8h")!

    @OptionGroup var secret: SecretOptions

    func validate() throws {
        for role in roles where !["member", "leader", "admin"].contains(role) {
            throw ValidationError("Unknown role '\(role)': use member, leader or admin.")
        }
    }

    func run() async throws {
        let key = try secret.resolveSecret(create: false).secret
        print(
            try await TokenSigner.sign(
                secret: key, sub: sub, name: name, roles: roles, channels: channels, ttlSeconds: ttl.seconds))
    }
}
