import Foundation
import NIOCore
import NIOHTTP1

/// The decisions taken on an upgrade request, kept pure so they are tested without sockets.
enum WebSocketUpgrade {
    static let subprotocol = "dugnad.v1"

    enum Decision: Equatable {
        /// Upgrade, echoing `subprotocol` when the client offered it.
        case accept(subprotocol: String?)
        /// Upgrade to the test-only echo endpoint (`ServerConfiguration.echoPath`): no
        /// authentication, no origin check, no subprotocol.
        case echo
        /// Do not upgrade; the HTTP handler answers (400 or 403).
        case refuse
    }

    static func decide(_ head: HTTPRequestHead, configuration: ServerConfiguration) -> Decision {
        let path = head.path
        if let echoPath = configuration.echoPath, path == echoPath { return .echo }
        guard path == "/ws" else { return .refuse }
        guard originAllowed(head, configuration) else { return .refuse }
        let offered = head.headers["sec-websocket-protocol"]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        if offered.isEmpty { return .accept(subprotocol: nil) }
        return offered.contains(subprotocol) ? .accept(subprotocol: subprotocol) : .refuse
    }

    /// The permessage-deflate agreement for this request, if the hub compresses and the
    /// client offered something it can honour.
    static func deflate(_ head: HTTPRequestHead, configuration: ServerConfiguration) -> DeflateAgreement? {
        guard configuration.permessageDeflate else { return nil }
        return DeflateNegotiation.agree(offers: head.headers["sec-websocket-extensions"])
    }

    /// Browsers send `Origin`; a page from another site must not open a socket with the
    /// user's cookies or stored token (cross-site WebSocket hijacking).
    static func originAllowed(_ head: HTTPRequestHead, _ configuration: ServerConfiguration) -> Bool {
        guard let allowed = configuration.allowedOrigins, let origin = head.headers.first(name: "origin") else { return true }
        if allowed.contains(origin) { return true }
        // The hub's own origin is always allowed: the web client is served from it.
        guard let host = head.headers.first(name: "host") else { return false }
        return ownSchemes(head, configuration).contains { origin == "\($0)://\(host)" }
    }

    /// The schemes the page that served the web client may have had. Serving TLS: https
    /// only. Plain: http, or https through a proxy that terminates TLS; a proxy that says
    /// which in `X-Forwarded-Proto` narrows it to that one (a client could only narrow it too).
    static func ownSchemes(_ head: HTTPRequestHead, _ configuration: ServerConfiguration) -> [String] {
        if configuration.tls != nil { return ["https"] }
        switch head.headers.first(name: "x-forwarded-proto")?.split(separator: ",").first?.trimmingCharacters(in: .whitespaces)
            .lowercased()
        {
        case "https": return ["https"]
        case "http": return ["http"]
        default: return ["http", "https"]
        }
    }

    /// The token from the `Authorization: Bearer` header, else the `token` query parameter.
    static func token(from head: HTTPRequestHead) -> String? {
        head.bearerToken ?? head.queryParameters["token"]
    }
}
