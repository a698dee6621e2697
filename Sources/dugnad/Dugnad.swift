import ArgumentParser

@main
struct Dugnad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dugnad",
        abstract: "Dugnad: a real-time messaging hub for social intranets.",
        discussion: """
            Run `dugnad serve` to start a hub with an embedded SQLite database in ./dugnad-data and
            the web client at http://localhost:8080/. `dugnad token` mints a sign-in token.
            """,
        subcommands: [Serve.self, Token.self, Channels.self, Keys.self, Users.self, Bench.self])
}
