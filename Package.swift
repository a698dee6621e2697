// swift-tools-version:6.1
import PackageDescription

// The layers, one way only (each line depends only on lines above it):
//
//   DugnadProtocol   wire types, validation, JSON                 (imports nothing)
//   DugnadTokens     JWT claims and HS256 signing                 (jwt-kit)
//   DugnadCore       the hub: Store/EventBus protocols, writer, fan-out, auth (no engine, no sockets)
//   DugnadSQLite     the embedded engine (GRDB)                   leaf: only the CLI and tests import it
//   DugnadPostgres   the shared engine and the bus between nodes  leaf: only the CLI and tests import it
//   DugnadOIDC       sign-in with an OpenID provider: discovery, JWKS, ID tokens, sessions
//                    (AsyncHTTPClient to the provider; jwt-kit; no hub, no server)
//   DugnadServer     SwiftNIO transport: TLS, HTTP, WebSocket, static files  (swift-nio-ssl; no engine)
//                    and permessage-deflate (compress-nio: zlib on ByteBuffers)
//   DugnadBench      the load generator (no hub: a WebSocket client of its own; compress-nio for --deflate)
//   dugnad           the CLI, the composition root: picks and builds the engine and the bus

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
let nioLocks: Target.Dependency = .product(name: "NIOConcurrencyHelpers", package: "swift-nio")
let nioHTTP: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
let nioWebSocket: Target.Dependency = .product(name: "NIOWebSocket", package: "swift-nio")
let nioEmbedded: Target.Dependency = .product(name: "NIOEmbedded", package: "swift-nio")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let jwtKit: Target.Dependency = .product(name: "JWTKit", package: "jwt-kit")
let grdb: Target.Dependency = .product(name: "GRDB", package: "GRDB.swift")
let postgresNIO: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")
let deque: Target.Dependency = .product(name: "DequeModule", package: "swift-collections")
let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
let compressNIO: Target.Dependency = .product(name: "CompressNIO", package: "compress-nio")

let package = Package(
    name: "dugnad",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dugnad", targets: ["dugnad"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // TLS on the hub's own port (BoringSSL inside: no maintained SwiftNIO binding to the
        // system's OpenSSL exists); already in the graph through postgres-nio.
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        // Only the tests make certificates (self-signed, expired); in the graph through jwt-kit.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        // permessage-deflate (RFC 7692): zlib's deflate and inflate on ByteBuffers, for the
        // server's WebSocket frames and the tests' client.
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "4.0.0"..<"5.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV.git", from: "0.10.0"),
        // Sign-in with OpenID Connect: the hub fetches the provider's discovery document,
        // JWKS and tokens over HTTPS (system trust store) with it.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .target(name: "DugnadProtocol", swiftSettings: strict),
        .target(name: "DugnadTokens", dependencies: [jwtKit], swiftSettings: strict),
        .target(
            name: "DugnadCore",
            dependencies: [
                "DugnadProtocol", "DugnadTokens", nioCore, nioLocks, nioPosix, logging, jwtKit, deque,
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "DugnadSQLite",
            dependencies: ["DugnadProtocol", "DugnadCore", grdb, nioLocks, logging],
            swiftSettings: strict
        ),
        .target(
            name: "DugnadPostgres",
            dependencies: ["DugnadProtocol", "DugnadCore", postgresNIO, nioCore, nioPosix, nioLocks, logging],
            swiftSettings: strict
        ),
        .target(
            name: "DugnadOIDC",
            dependencies: [
                "DugnadProtocol", "DugnadTokens", jwtKit, nioCore, nioHTTP, nioLocks, logging, deque,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "DugnadServer",
            dependencies: [
                "DugnadProtocol", "DugnadCore", nioCore, nioPosix, nioHTTP, nioWebSocket, nioLocks, nioSSL, compressNIO,
                "DugnadOIDC", logging,
                // Only to own and shut down the OIDC provider's client (DugnadOIDC uses it).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "DugnadBench",
            dependencies: [
                "DugnadProtocol", "DugnadTokens", nioCore, nioPosix, compressNIO,
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            // The load generator only: its per-delivery path is all class-property access
            // on one thread, and the runtime exclusivity checks were a tenth of its CPU.
            // The hub keeps them.
            swiftSettings: strict + [.unsafeFlags(["-enforce-exclusivity=unchecked"])]
        ),
        .executableTarget(
            name: "dugnad",
            dependencies: [
                "DugnadCore", "DugnadTokens", "DugnadSQLite", "DugnadPostgres", "DugnadServer", "DugnadBench", "DugnadOIDC",
                logging,
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // SIGHUP: reload the TLS certificate.
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
            ],
            swiftSettings: strict
        ),

        // Tests: one target per module, and what several of them share.
        .target(
            name: "DugnadTestSupport",
            dependencies: [
                nioCore, nioPosix, nioHTTP, nioWebSocket, nioLocks, nioSSL, compressNIO,
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/DugnadTestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "DugnadProtocolTests", dependencies: ["DugnadProtocol"], swiftSettings: strict),
        .testTarget(
            name: "DugnadCoreTests",
            dependencies: [
                "DugnadCore", "DugnadProtocol", "DugnadTokens", jwtKit, logging, nioLocks, nioCore, nioPosix, nioEmbedded,
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DugnadOIDCTests",
            dependencies: ["DugnadOIDC", "DugnadProtocol", jwtKit, .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DugnadSQLiteTests",
            dependencies: ["DugnadSQLite", "DugnadCore", "DugnadProtocol", grdb, logging, nioLocks, nioPosix],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DugnadPostgresTests",
            dependencies: [
                "DugnadPostgres", "DugnadSQLite", "DugnadCore", "DugnadProtocol", "DugnadTestSupport", postgresNIO, grdb,
                logging, nioLocks,
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DugnadCLITests",
            dependencies: ["DugnadSQLite", "DugnadCore", "DugnadProtocol", "DugnadTestSupport", "DugnadTokens"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "DugnadServerTests",
            dependencies: [
                "DugnadServer", "DugnadCore", "DugnadProtocol", "DugnadTokens", "DugnadTestSupport", "DugnadBench",
                "DugnadSQLite", "DugnadPostgres", postgresNIO, grdb, nioCore, nioPosix, nioEmbedded, nioWebSocket, nioHTTP,
                nioLocks, nioSSL, jwtKit, logging, compressNIO,
                // The handler tests build an `AppContext`, which takes the server's registry.
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
