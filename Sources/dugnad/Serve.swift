import DugnadTokens
import ArgumentParser
import DugnadCore
import DugnadProtocol
import DugnadServer
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the hub: HTTP API, WebSocket at /ws and the web client at /.",
        discussion: """
            With no secret configured, a random one is generated on first start and kept in
            <data-dir>/jwt-secret (mode 0600), and a sign-in URL for a local admin is printed
            when standard output is a terminal (else written to <data-dir>/admin-sign-in-url,
            mode 0600, so that no token ends up in a log); not when the secret is configured
            (--jwt-secret or DUGNAD_JWT_SECRET), nor with --no-admin-link.
            SIGTERM or SIGINT shuts down gracefully: stop accepting, close sockets with 1001,
            commit what is queued, exit 0.
            With --tls-cert and --tls-key the port speaks HTTPS and wss:// only (TLS 1.2 or
            1.3); SIGHUP reads both files again, and a pair that cannot serve is refused with
            its reason in the log while the old one stays.
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(
        help: ArgumentHelp(
            "PEM certificate (then any intermediates): serve HTTPS and wss:// on the port (needs --tls-key; reloaded on SIGHUP).",
            valueName: "pem"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM private key of --tls-cert, unencrypted.", valueName: "pem"))
    var tlsKey: String?

    @OptionGroup var secret: SecretOptions

    @OptionGroup(title: "Sign-in with an OpenID Connect provider") var oidc: OIDCOptions

    @Option(
        help: ArgumentHelp(
            "PostgreSQL URL, postgres://USER[:PASSWORD]@HOST:PORT/DB, for several nodes on one database (default: env DUGNAD_DATABASE_URL, else SQLite in --data-dir).",
            valueName: "url"))
    var database: String?

    @Option(help: "With --database: this node's id among the nodes sharing it (default: a random one per start).")
    var nodeID: String?

    @Option(help: "With --database: seconds without a sign of life after which another node is taken for dead.")
    var nodeTimeout: Int64 = 15

    @Option(help: "Folder served at / (the web client).")
    var webRoot = "web-client/public"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Event loop threads (default: one per core).")
    var eventLoops: Int?

    @Option(help: "Seconds between server pings.")
    var pingInterval: Int64 = 25

    @Option(help: "Publishes per second per user, all the user's connections together (sustained).")
    var publishRate: Double = 20

    @Option(help: "Publish burst per user.")
    var publishBurst: Double = 40

    @Option(help: "Commands per second per user (any kind), all the user's connections together.")
    var commandRate: Double = 100

    @Option(help: "Command burst per user.")
    var commandBurst: Double = 200

    @Option(help: "Announcements and reminders per user per minute.")
    var announceRate: Double = 10

    @Option(help: "Seconds before an announcement may be reminded again.")
    var remindInterval: Int64 = 300

    @Option(help: "Minutes after sending it that an author may edit a message (0 turns editing off).")
    var editWindow: Int64 = 24 * 60

    @Option(
        name: .customLong("reserved-channel"),
        help: "A channel name a join never creates, so that only an admin can (repeatable; '*' matches any run of characters, e.g. 'hr*').")
    var reservedChannels: [String] = []

    @Option(
        name: .customLong("default-channel"),
        help: ArgumentHelp(
            "A public channel every person is a member of from their first connection, created at start if missing "
                + "(repeatable; default: general).", valueName: "name"))
    var defaultChannels: [String] = []

    @Flag(help: "No default channels (people start with none).")
    var noDefaultChannel = false

    @Option(help: "Public channels one user's joins may create in 24 hours.")
    var channelCreationLimit = 20

    @Option(help: "Outbound bytes queued per connection before it is closed with 4008.")
    var outboundLimit = 1 << 20

    @Option(help: "Above this many users online in a channel, presence is sent as counts only.")
    var presenceListLimit = 1_000

    @Option(help: "Presence deliveries a second that diffs may average; a diff to more members waits and coalesces.")
    var presenceDeliveriesPerSecond = HubConfiguration().presenceDeliveriesPerSecond

    @Option(
        help: ArgumentHelp(
            "The same during a rush: a second in which at least --presence-rush-openings connections opened.",
            valueName: "n"))
    var presenceRushDeliveriesPerSecond = HubConfiguration().presenceRushDeliveriesPerSecond

    @Option(help: "Connections opened in one second that make a rush (see --presence-rush-deliveries-per-second).")
    var presenceRushOpenings = HubConfiguration().presenceRushOpeningsPerSecond

    @Option(help: "Milliseconds within which fan-out to a connection is gathered into one write under load (0: write every event at once).")
    var flushWindow: Int64 = 0

    @Option(help: "Publishes are answered rate_limited while fan-out has waited this many milliseconds (0: never).")
    var fanoutMaxLag: Int64 = 500

    @Option(help: "Publishes are answered rate_limited while an event loop has this many deliveries waiting (0: no such bound).")
    var fanoutMaxDeliveries = HubConfiguration().fanoutMaxBacklogDeliveries

    @Option(
        name: .customLong("allowed-origin"),
        help: "Another origin allowed to open /ws from a browser (repeatable; '*' allows any; default: only the hub's own).")
    var allowedOrigins: [String] = []

    @Option(help: "Open connections allowed from one remote address.")
    var maxConnectionsPerAddress = 4_096

    @Option(help: "Open WebSocket connections allowed per user or API key.")
    var maxConnectionsPerUser = 64

    @Option(help: "JWT algorithm: HS256 (shared secret), RS256 or ES256 (with --jwt-public-key).")
    var jwtAlgorithm = "HS256"

    @Option(help: "PEM public key file for RS256/ES256 tokens from an identity provider.")
    var jwtPublicKey: String?

    @Option(help: "Required `iss` claim (needed with RS256/ES256; not checked for HS256 unless given).")
    var jwtIssuer: String?

    @Option(help: "Required `aud` claim (needed with RS256/ES256; not checked for HS256 unless given).")
    var jwtAudience: String?

    @Option(help: "test-only echo endpoint for the Autobahn suite; off by default")
    var echoPath: String?

    @Flag(help: "Never negotiate permessage-deflate: every frame goes uncompressed.")
    var noCompression = false

    @Option(help: "Messages smaller than this many bytes go uncompressed to clients with permessage-deflate.")
    var compressionThreshold = 256

    @Flag(help: "Refuse to create public channels on join (admins create every channel).")
    var noAutoCreate = false

    @Flag(help: "Let admins join and read direct channels (they show up as members). Default off: only its people.")
    var adminsReadDirect = false

    @Flag(help: "Never print (or write) the local admin's sign-in link.")
    var noAdminLink = false

    @Flag(help: "Accept tokens without `exp` (not recommended).")
    var allowTokensWithoutExpiry = false

    func validate() throws {
        for (name, value) in [
            ("--publish-rate", publishRate), ("--command-rate", commandRate),
        ] where !(value > 0) {
            throw ValidationError("\(name) must be greater than 0.")
        }
        for (name, value) in [("--publish-burst", publishBurst), ("--command-burst", commandBurst)] where !(value >= 1) {
            throw ValidationError("\(name) must be at least 1.")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together: give both or neither.")
        }
        guard nodeTimeout >= 1 else { throw ValidationError("--node-timeout must be at least 1 second.") }
        if let nodeID, nodeID.isEmpty || nodeID.count > 64 {
            throw ValidationError("--node-id must be 1 to 64 characters.")
        }
        for (name, value) in [
            ("--presence-deliveries-per-second", presenceDeliveriesPerSecond),
            ("--presence-rush-deliveries-per-second", presenceRushDeliveriesPerSecond),
            ("--presence-rush-openings", presenceRushOpenings),
        ] where value < 1 {
            throw ValidationError("\(name) must be at least 1.")
        }
        guard flushWindow >= 0 else { throw ValidationError("--flush-window must be 0 or more.") }
        guard fanoutMaxLag >= 0 else { throw ValidationError("--fanout-max-lag must be 0 or more.") }
        guard fanoutMaxDeliveries >= 0 else { throw ValidationError("--fanout-max-deliveries must be 0 or more.") }
        guard pingInterval > 0 else { throw ValidationError("--ping-interval must be greater than 0.") }
        guard compressionThreshold >= 0 else { throw ValidationError("--compression-threshold must be 0 or more.") }
        guard outboundLimit >= 4096 else { throw ValidationError("--outbound-limit must be at least 4096 bytes.") }
        guard announceRate > 0 else { throw ValidationError("--announce-rate must be greater than 0.") }
        guard remindInterval >= 0 else { throw ValidationError("--remind-interval must be 0 or more.") }
        guard (0...(366 * 24 * 60)).contains(editWindow) else {
            throw ValidationError("--edit-window must be 0 to 527040 minutes (a year).")
        }
        guard channelCreationLimit >= 0 else { throw ValidationError("--channel-creation-limit must be 0 or more.") }
        for name in defaultChannels where !ChannelName.isValid(name) || DirectChannelName.isReserved(name) {
            throw ValidationError(
                "--default-channel '\(name)' must match ^[a-z0-9][a-z0-9._-]{0,63}$ (and not be dm- and 32 hex digits).")
        }
        if noDefaultChannel, !defaultChannels.isEmpty {
            throw ValidationError("--no-default-channel and --default-channel exclude each other.")
        }
        let patternCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789._-*")
        for pattern in reservedChannels where pattern.isEmpty || pattern.count > 64 || !pattern.allSatisfy(patternCharacters.contains) {
            throw ValidationError("--reserved-channel '\(pattern)' must be a channel name, with '*' for any run of characters.")
        }
    }

    func run() async throws {
        keepFreedHeap()
        try DataFolder.secure(secret.dataDir)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let logger = Logger(label: "dugnad")
        let key = try secret.resolveSecret(create: true).secret

        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        if let tlsCert, let tlsKey { configuration.tls = TLSFiles(certificatePath: tlsCert, keyPath: tlsKey) }
        configuration.webRoot = webRoot
        configuration.pingInterval = pingInterval
        configuration.outboundLimitBytes = outboundLimit
        if let eventLoops { configuration.eventLoops = eventLoops }
        configuration.allowedOrigins = allowedOrigins.contains("*") ? nil : allowedOrigins
        configuration.maxConnectionsPerAddress = maxConnectionsPerAddress
        configuration.maxConnectionsPerUser = maxConnectionsPerUser
        configuration.hub.publishRate = publishRate
        configuration.hub.publishBurst = publishBurst
        configuration.hub.commandRate = commandRate
        configuration.hub.commandBurst = commandBurst
        configuration.hub.presenceListLimit = presenceListLimit
        configuration.hub.presenceDeliveriesPerSecond = presenceDeliveriesPerSecond
        configuration.hub.presenceRushDeliveriesPerSecond = presenceRushDeliveriesPerSecond
        configuration.hub.presenceRushOpeningsPerSecond = presenceRushOpenings
        configuration.hub.fanoutFlushWindowMillis = flushWindow
        configuration.hub.fanoutMaxLagMillis = fanoutMaxLag
        configuration.hub.fanoutMaxBacklogDeliveries = fanoutMaxDeliveries
        configuration.hub.autoCreatePublicChannels = !noAutoCreate
        configuration.hub.adminsReadDirect = adminsReadDirect
        configuration.hub.announcesPerMinute = announceRate
        configuration.hub.remindIntervalMillis = remindInterval * 1_000
        configuration.hub.editWindowMillis = editWindow * 60_000
        configuration.hub.reservedChannels = ReservedChannelNames(reservedChannels)
        configuration.hub.channelCreationsPerDay = channelCreationLimit
        configuration.hub.defaultChannels = noDefaultChannel ? [] : defaultChannels.isEmpty ? ["general"] : defaultChannels
        configuration.echoPath = echoPath
        configuration.permessageDeflate = !noCompression
        configuration.compressionThresholdBytes = compressionThreshold
        guard let algorithm = TokenVerifier.Algorithm(rawValue: jwtAlgorithm.uppercased()) else {
            throw ValidationError("--jwt-algorithm must be HS256, RS256 or ES256.")
        }
        var publicKeyPEM: String?
        if algorithm != .hs256 {
            guard let path = jwtPublicKey, let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("\(algorithm.rawValue) needs --jwt-public-key with a readable PEM file.")
            }
            publicKeyPEM = String(decoding: data, as: UTF8.self)
        }
        configuration.tokens = TokenVerifier.Configuration(
            algorithm: algorithm, secret: key, publicKeyPEM: publicKeyPEM, allowNoExpiry: allowTokensWithoutExpiry,
            issuer: jwtIssuer, audience: jwtAudience)
        configuration.oidc = try oidc.configuration()
        if configuration.oidc != nil, algorithm != .hs256 {
            throw ValidationError("--oidc-issuer needs --jwt-algorithm HS256: the hub signs its own session tokens.")
        }

        let engine = try StorageEngine.forServing(
            databaseURL: StoreOptions.databaseURL(flag: database), dataDirectory: secret.dataDir,
            node: StorageEngine.Node(id: nodeID, timeoutMillis: nodeTimeout * 1_000), logger: logger)
        if let heartbeat = engine.sessionHeartbeatSeconds {
            configuration.hub.sessionHeartbeatSeconds = min(configuration.hub.sessionHeartbeatSeconds, heartbeat)
        }
        let service = HubService(
            configuration: configuration, engine: engine, dataDirectory: secret.dataDir, logger: logger, secret: key,
            // Only for the secret the hub keeps itself: an operator who configured one (to
            // share it with other nodes or an identity provider) signs in some other way.
            printSignIn: algorithm == .hs256 && secret.configuredSecret == nil && !noAdminLink)
        let group = ServiceGroup(
            configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// The hub as a lifecycle service: starts storage, hub and server together, and on
/// graceful shutdown stops accepting, closes sockets with 1001 and flushes the writer.
/// One service rather than three because the server cannot outlive the hub nor the hub
/// the storage: `DugnadApplication.shutdown` tears them down in that order.
struct HubService: Service, CustomStringConvertible {
    let configuration: ServerConfiguration
    let engine: StorageEngine
    let dataDirectory: String
    let logger: Logger
    let secret: [UInt8]
    let printSignIn: Bool

    /// What service-lifecycle logs at debug level when it starts and stops the service:
    /// settings yes, the secret and the database password no.
    var description: String {
        "HubService(\(configuration), storage: \(engine.description))"
    }

    func run() async throws {
        let app = try await DugnadApplication.start(
            configuration: configuration, store: engine.store, makeBus: engine.makeBus, logger: logger)
        // Trapped before the address is printed, so that a SIGHUP from whoever waited for it
        // reloads rather than ends the hub; and only with TLS: without it SIGHUP keeps its
        // default meaning.
        let hangups = app.servesTLS ? await UnixSignalsSequence(trapping: .sighup) : nil
        let authority = "\(configuration.host == "0.0.0.0" ? "localhost" : configuration.host):\(app.port)"
        let base = (app.servesTLS ? "https://" : "http://") + authority
        let webSocket = (app.servesTLS ? "wss://" : "ws://") + authority + "/ws"
        say("dugnad \(configuration.version) listening on \(base) (WebSocket at \(webSocket))")
        if printSignIn {
            let token = try await TokenSigner.sign(
                secret: secret, sub: "admin", name: "Local admin", roles: ["admin", "leader"], channels: [], ttlSeconds: 8 * 3600)
            let link = "\(base)/#token=\(token)"
            // A token is a credential: it goes to a terminal, never into a log. Under a
            // service manager (stdout not a terminal) it goes to a 0600 file instead.
            if isatty(STDOUT_FILENO) == 1 {
                say("sign in as the local admin (valid 8 hours): \(link)")
            } else {
                let path = dataDirectory + "/admin-sign-in-url"
                do {
                    try writePrivateFile(path, link + "\n")
                    say("sign-in URL for the local admin (valid 8 hours) written to \(path)")
                } catch {
                    logger.warning("could not write the admin sign-in URL to \(path): \(error)")
                }
            }
        }
        await withTaskGroup(of: Void.self) { tasks in
            if let hangups {
                tasks.addTask {
                    for await _ in hangups {
                        // A refusal is logged with its reason by the app; the old pair serves on.
                        try? await app.reloadCertificate()
                    }
                }
            }
            await withGracefulShutdownHandler {
                try? await gracefulShutdown()
            } onGracefulShutdown: {
                logger.info("shutting down")
            }
            tasks.cancelAll()
        }
        await app.shutdown()
        logger.info("stopped")
    }
}

/// Writes a line to standard output unbuffered, so that the address and the sign-in URL
/// show at once even when stdout is a pipe.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// glibc gives freed memory back to the kernel as soon as 128 KiB sit free at the top of a
/// heap, then faults it in again on the next batch: measured at about a tenth of the writer
/// thread's time. Keep up to 64 MiB of free heap instead (`mallopt(M_TRIM_THRESHOLD)`;
/// looked up at run time, as `<malloc.h>` is not part of Swift's Glibc module).
func keepFreedHeap() {
    #if os(Linux)
        typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
        let trimThreshold: Int32 = -1  // M_TRIM_THRESHOLD
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        _ = unsafeBitCast(symbol, to: MallOpt.self)(trimThreshold, 64 << 20)
    #endif
}
