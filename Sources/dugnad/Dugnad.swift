import ArgumentParser

@main
struct Dugnad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dugnad",
        abstract: "Dugnad: a real-time messaging hub for social intranets.",
        discussion: """
            Run `dugnad serve` to start a hub with an embedded SQLite database in ./dugnad-data and \
            the web client at http://localhost:8080/. `dugnad token` mints a sign-in token.

            `channels`, `keys` and `users` administer the same data folder (or --database), also \
            beside a running hub, which applies each change within a second; `audit` shows what \
            admins did.
            """,
        subcommands: [Serve.self, Demo.self, Token.self, Channels.self, Keys.self, Users.self, Audit.self, Bench.self])
}
