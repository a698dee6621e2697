import ArgumentParser
import DugnadBench
import Foundation

/// `dugnad bench`: a load test of a running hub (`dugnad bench fanout`, …, the default) or
/// the measurement of full-text search on a store (`dugnad bench search`).
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test a running hub (fanout, groups, publish, idle, churn) or measure search.",
        subcommands: [LoadBench.self, SearchBench.self], defaultSubcommand: LoadBench.self)
}

struct LoadBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load-test a running hub: fanout, groups, publish, idle or churn (the default of dugnad bench).",
        discussion: """
            Runs one scenario against the hub at --url and prints a summary, with a
            progress line on stderr while it runs; with --json, one JSON object on
            stdout. Tokens are minted from --jwt-secret or the hub's data folder.

            The hub's defaults allow 20 publishes/s per connection; for a benchmark,
            start it with the limits lifted, e.g.

              dugnad serve --port 9090 --data-dir /tmp/benchdata \\
                --publish-rate 1000000 --publish-burst 1000000 \\
                --command-rate 1000000 --command-burst 1000000
              dugnad bench fanout --url ws://127.0.0.1:9090/ws \\
                --data-dir /tmp/benchdata --subscribers 1000 --rate 1000 \\
                --server-pid "$(pgrep -n dugnad)"

            Defaults: fanout 100 subscribers, 2 publishers, 1,000 msg/s; groups
            1,000 subscribers over 10 channels, 10 publishers, 1,000 msg/s; publish
            50 publishers each waiting for its ack, 2 subscribers; idle 1,000
            connections; churn 50 connections/s, each held 1 s, 10 watchers.

            Exit status: 0 when the run completed (loss is a result, reported in
            the summary), 2 when the hub could not be reached or refused the
            bench's connections, 1 for other errors.
            """)

    @Argument(help: "Scenario: fanout, groups, publish, idle or churn.")
    var scenario: BenchScenario

    @Option(help: "WebSocket URL of the hub.")
    var url = "ws://127.0.0.1:8080/ws"

    @Option(
        help: ArgumentHelp(
            "Another node of the same hub (several nodes on one database; same host and path as --url, repeatable): connections are spread round-robin over every node.",
            valueName: "url"))
    var nodeURL: [String] = []

    @OptionGroup var secret: SecretOptions

    @Option(help: "Seconds of measured traffic (idle: of holding).")
    var duration: Double = 10

    @Option(help: "Seconds of traffic before measuring (fanout, groups, publish; default 2).")
    var warmup: Double?

    @Option(help: "Subscribers (churn: watchers that stay in the channel).")
    var subscribers: Int?

    @Option(help: "Publishers.")
    var publishers: Int?

    @Option(help: "Messages per second over all publishers; 0 = as fast as the hub acknowledges.")
    var rate: Double?

    @Option(help: "Stop after this many messages in all (or at the end of --duration).")
    var messages: Int?

    @Option(help: "Message body size in bytes.")
    var bodyBytes: Int = 100

    @Flag(help: "Offer permessage-deflate and inflate compressed frames (the hub's side of compression is measured).")
    var deflate = false

    @Option(help: "Channels (groups: subscribers are spread over them; idle: connections are).")
    var channels: Int?

    @Option(help: "Idle: connections to hold.")
    var connections: Int?

    @Option(help: "Idle: channels each connection joins (at most --channels).")
    var joins: Int = 1

    @Option(help: "Churn: connections opened per second.")
    var churnRate: Double?

    @Option(help: "Churn: seconds each connection stays before leaving.")
    var hold: Double = 1

    @Option(help: "Unacknowledged publishes per publisher (default: 1 for publish, 64 with --rate 0, else 10000).")
    var inFlight: Int?

    @Option(help: "Client event-loop threads (default: the CPUs this process may use).")
    var threads: Int?

    @Option(help: "The hub's process id: its RSS and CPU time are read from /proc.")
    var serverPid: Int32?

    @Option(help: "Free text recorded in the JSON, e.g. the hub's flags.")
    var note: String?

    @Option(help: "Prefix of the bench's channel and user names.")
    var namePrefix = "bench"

    @Option(help: "Handshakes in progress at once while connecting.")
    var connectConcurrency = 256

    @Option(help: "127.0.0.x source addresses to spread connections over (0: as the port range requires).")
    var sourceAddresses = 0

    @Option(help: "Seconds one connection may take to connect, be welcomed and join.")
    var setupTimeout: Double = 60

    @Option(help: "Seconds to wait for the last acks and deliveries once they stop coming.")
    var drainTimeout: Double = 5

    @Flag(help: "Print one JSON object on stdout (the summary goes to stderr).")
    var json = false

    @Flag(help: "No progress line.")
    var noProgress = false

    func run() async throws {
        var configuration = BenchConfiguration(scenario: scenario)
        do {
            try configuration.setURL(url)
            for node in nodeURL { try configuration.addNodeURL(node) }
        } catch {
            throw ValidationError(error.description)
        }
        configuration.secret = try secret.resolveSecret(create: false).secret
        configuration.duration = duration
        if let warmup { configuration.warmup = warmup }
        if let subscribers { configuration.subscribers = subscribers }
        if let publishers { configuration.publishers = publishers }
        if let rate { configuration.rate = rate }
        configuration.messages = messages
        configuration.bodyBytes = bodyBytes
        configuration.deflate = deflate
        if let channels { configuration.channels = channels }
        configuration.joinsPerConnection = joins
        if let connections { configuration.connections = connections }
        if let churnRate { configuration.churnRate = churnRate }
        configuration.hold = hold
        configuration.inFlight = inFlight
        if let threads { configuration.threads = threads }
        configuration.serverPID = serverPid
        configuration.note = note
        configuration.namePrefix = namePrefix
        configuration.connectConcurrency = connectConcurrency
        configuration.sourceAddresses = sourceAddresses
        configuration.drainTimeout = drainTimeout
        configuration.setupTimeout = setupTimeout

        let showProgress = !noProgress
        let printProgress: @Sendable (BenchProgress) -> Void = { progress in
            // Padded so that a shorter line covers the one before it.
            let line = progress.line
            let padded = line.padding(toLength: max(line.count, 120), withPad: " ", startingAt: 0)
            FileHandle.standardError.write(Data(("\r" + padded).utf8))
        }
        let report: BenchReport
        do {
            report = try await BenchRunner(configuration: configuration).run(progress: showProgress ? printProgress : nil)
        } catch let error as BenchError {
            if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            FileHandle.standardError.write(Data("dugnad bench: \(error.description)\n".utf8))
            throw ExitCode(error.isConnectionFailure ? 2 : 1)
        }
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        if json {
            FileHandle.standardError.write(Data((report.summary + "\n").utf8))
            print(report.jsonString())
        } else {
            print(report.summary)
        }
    }
}

extension BenchScenario: ExpressibleByArgument {}
