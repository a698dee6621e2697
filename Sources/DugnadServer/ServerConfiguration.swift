import DugnadCore
import DugnadOIDC
import NIOCore

/// Settings of the transport and the hub. The CLI and the tests build the same struct and
/// call the same `DugnadApplication.start(configuration:store:makeBus:)`; which storage
/// engine runs underneath is theirs to choose (the server never knows).
public struct ServerConfiguration: Sendable {
    /// Default 127.0.0.1: a fresh hub is not exposed to the network until asked.
    public var host = "127.0.0.1"
    /// Default 8080; 0 picks a free port (tests).
    public var port = 8080
    /// With a certificate and key, the port speaks HTTPS and `wss://` only. Default nil:
    /// plain HTTP and `ws://`, as behind a proxy that terminates TLS.
    public var tls: TLSFiles?
    /// Folder served at `/`: the web client's assets and nothing else (its tests and notes
    /// live beside it, outside). Default web-client/public (relative to the working directory).
    public var webRoot = "web-client/public"
    /// Seconds between server pings. Default 25, as the contract says.
    public var pingInterval: Int64 = 25
    /// Seconds a connection has to authenticate. Default 10, as the contract says.
    public var authTimeout: Int64 = 10
    /// Bytes a connection may have queued outbound before it is closed with 4008. Default 1 MiB.
    public var outboundLimitBytes = 1 << 20
    /// Kernel send buffer per connection (SO_SNDBUF; Linux doubles it). Default 128 KiB:
    /// 2.5 MB/s per connection even at 100 ms round trips, and small enough that stalled
    /// readers cannot exhaust kernel memory. Measured with 1,000 stalled readers: halving
    /// it from 256 KiB halved what the hub copies before it closes them (a healthy client's
    /// p99 1,071 → 546 ms during that window); 64 KiB closed healthy readers too.
    public var socketSendBufferBytes = 128 * 1024
    /// Largest HTTP request body. Default 1 MiB (bodies carry at most a 16 KiB message or a user import).
    public var maxHTTPBodyBytes = 1 << 20
    /// Request-body bytes held across all connections at once; a body that would pass it
    /// is answered 503. Default 64 MiB.
    public var maxHTTPBodyBytesInFlight = 64 << 20
    /// Seconds a request's body has, from its head, to arrive whole; a slower one is
    /// answered 408 and its connection closed. Default 10.
    public var httpBodyTimeoutSeconds: Int64 = 10
    /// Event loops (threads) serving connections. Default: one per core.
    public var eventLoops = System.coreCount
    /// Origins allowed to open `/ws` from a browser, besides the hub's own origin (always
    /// allowed: the web client is served from it). Default: none, so a page on another
    /// site cannot open a socket as a signed-in user (cross-site WebSocket hijacking);
    /// nil allows any origin. Requests without an `Origin` header (bots, CLI) are allowed.
    public var allowedOrigins: [String]? = []
    /// Seconds a new connection has to send a complete request head (slowloris defence).
    /// Default 10.
    public var headerTimeoutSeconds: Int64 = 10
    /// Seconds an HTTP connection (not a WebSocket) may sit idle between requests. Default 60.
    public var httpIdleTimeoutSeconds: Int64 = 60
    /// Open connections from one remote address; more are answered 429 and closed.
    /// Default 4,096 (offices behind one NAT share an address).
    public var maxConnectionsPerAddress = 4_096
    /// Open WebSocket connections of one user or key; more are closed with 4029
    /// `too_many_connections`. Default 64 (tabs and devices).
    public var maxConnectionsPerUser = 64
    /// Seconds a connection we closed may take to drain its queue and answer our close
    /// frame before the TCP connection is cut. Default 5: enough for a slow consumer that
    /// reads again to see its 4008.
    public var closeTimeoutSeconds: Int64 = 5
    /// Seconds graceful shutdown waits for clients to close after 1001. Default 2.
    public var shutdownGraceSeconds: Int64 = 2
    /// Path of a test-only WebSocket endpoint that echoes every message, without
    /// authentication, through the same frame logic as `/ws` (for the Autobahn suite).
    /// Default nil: off, as it should be on any hub that real clients reach.
    public var echoPath: String?
    /// permessage-deflate (RFC 7692) for clients that offer it (browsers do). Default on:
    /// chat JSON shrinks to about a third, and each fan-out event is compressed once for all
    /// of its subscribers (`server_no_context_takeover`), not once per connection.
    public var permessageDeflate = true
    /// Messages smaller than this go uncompressed even to deflate connections. Default 256
    /// bytes: below it deflate saves a few bytes at best and costs a zlib pass per event.
    public var compressionThresholdBytes = 256
    public var hub = HubConfiguration()
    public var tokens = TokenVerifier.Configuration()
    /// Sign-in with an OpenID Connect provider (`/auth/*`). Default nil: off, people sign
    /// in with tokens only. Needs HS256 (`tokens.secret`): the hub mints its session tokens.
    public var oidc: OIDCConfiguration?
    /// Reported in the welcome.
    public var version = DugnadVersion.current

    public init() {}
}

public enum DugnadVersion {
    public static let current = "1.0.0"
}

extension ServerConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The settings an operator looks for, with credentials redacted (see
    /// `TokenVerifier.Configuration.description`): this is what a log may show.
    public var description: String {
        "ServerConfiguration(host: \(host), port: \(port), tls: \(tls?.certificatePath ?? "off"), webRoot: \(webRoot), "
            + "eventLoops: \(eventLoops), permessageDeflate: \(permessageDeflate ? "on" : "off"), "
            + "tokens: \(tokens), oidc: \(oidc.map { "\($0)" } ?? "off"), allowedOrigins: \(allowedOrigins.map { "\($0)" } ?? "any"))"
    }

    public var debugDescription: String { description }
}
