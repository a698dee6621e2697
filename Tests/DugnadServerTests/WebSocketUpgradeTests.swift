import NIOHTTP1
import Testing

@testable import DugnadServer

/// The pure upgrade decisions of section 1 and 2: which requests become WebSockets, which
/// subprotocol is echoed, which origins may connect, and where the token is read from.
@Suite struct WebSocketUpgradeTests {
    private func head(_ uri: String = "/ws", _ headers: [(String, String)] = []) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: HTTPHeaders(headers))
    }

    private func configuration(allowedOrigins: [String]? = nil) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.allowedOrigins = allowedOrigins
        return configuration
    }

    private func decide(_ head: HTTPRequestHead, allowedOrigins: [String]? = nil) -> WebSocketUpgrade.Decision {
        WebSocketUpgrade.decide(head, configuration: configuration(allowedOrigins: allowedOrigins))
    }

    // MARK: Path

    @Test func upgradeIsAcceptedAtSlashWS() {
        #expect(decide(head("/ws")) == .accept(subprotocol: nil))
        #expect(decide(head("/ws?token=abc")) == .accept(subprotocol: nil))
    }

    @Test(arguments: ["/", "/ws/", "/wss", "/ws2", "/api/ws", "/WS", "/ws/extra", "ws"])
    func upgradeIsRefusedElsewhere(_ uri: String) {
        #expect(decide(head(uri)) == .refuse)
    }

    // MARK: Subprotocols

    @Test func offeringNoSubprotocolIsAcceptedWithoutEcho() {
        #expect(decide(head()) == .accept(subprotocol: nil))
    }

    @Test func dugnadV1IsEchoed() {
        #expect(decide(head("/ws", [("Sec-WebSocket-Protocol", "dugnad.v1")])) == .accept(subprotocol: "dugnad.v1"))
    }

    @Test func dugnadV1AmongOthersIsEchoedAlone() {
        #expect(
            decide(head("/ws", [("Sec-WebSocket-Protocol", "chat, dugnad.v1 ,superchat")]))
                == .accept(subprotocol: "dugnad.v1"))
    }

    @Test func dugnadV1InASecondHeaderLineIsFound() {
        let request = head("/ws", [("Sec-WebSocket-Protocol", "chat"), ("Sec-WebSocket-Protocol", "dugnad.v1")])
        #expect(decide(request) == .accept(subprotocol: "dugnad.v1"))
    }

    @Test func onlyUnknownSubprotocolsAreRefused() {
        #expect(decide(head("/ws", [("Sec-WebSocket-Protocol", "chat, superchat")])) == .refuse)
        #expect(decide(head("/ws", [("Sec-WebSocket-Protocol", "dugnad.v2")])) == .refuse)
    }

    @Test func subprotocolHeaderNameIsCaseInsensitive() {
        #expect(decide(head("/ws", [("sec-websocket-protocol", "dugnad.v1")])) == .accept(subprotocol: "dugnad.v1"))
    }

    // MARK: Origin

    @Test func anyOriginIsAllowedWhenNoListIsConfigured() {
        let request = head("/ws", [("Origin", "https://elsewhere.example"), ("Host", "hub.example.org")])
        #expect(decide(request, allowedOrigins: nil) == .accept(subprotocol: nil))
    }

    @Test func listedOriginIsAllowed() {
        let request = head("/ws", [("Origin", "https://app.example.org"), ("Host", "hub.example.org")])
        #expect(decide(request, allowedOrigins: ["https://app.example.org"]) == .accept(subprotocol: nil))
    }

    @Test func unlistedOriginIsRefused() {
        let request = head("/ws", [("Origin", "https://evil.example"), ("Host", "hub.example.org")])
        #expect(decide(request, allowedOrigins: ["https://app.example.org"]) == .refuse)
        #expect(!WebSocketUpgrade.originAllowed(request, configuration(allowedOrigins: ["https://app.example.org"])))
    }

    @Test func originIsComparedExactly() {
        let allowed = ["https://app.example.org"]
        for origin in ["http://app.example.org", "https://app.example.org:8443", "https://app.example.org.evil.example"] {
            #expect(decide(head("/ws", [("Origin", origin)]), allowedOrigins: allowed) == .refuse, "\(origin)")
        }
    }

    @Test func hubsOwnOriginIsAlwaysAllowed() {
        let allowed = ["https://app.example.org"]
        for origin in ["http://hub.example.org:8080", "https://hub.example.org:8080"] {
            let request = head("/ws", [("Origin", origin), ("Host", "hub.example.org:8080")])
            #expect(decide(request, allowedOrigins: allowed) == .accept(subprotocol: nil), "\(origin)")
        }
    }

    @Test func servingTLSTheHubsOwnOriginIsHTTPSOnly() {
        var tls = configuration(allowedOrigins: [])
        tls.tls = TLSFiles(certificatePath: "cert.pem", keyPath: "key.pem")
        let secure = head("/ws", [("Origin", "https://hub.example.org:8443"), ("Host", "hub.example.org:8443")])
        #expect(WebSocketUpgrade.decide(secure, configuration: tls) == .accept(subprotocol: nil))
        // No page of the hub's is served over plain http on a TLS port: such a page is someone else's.
        let plain = head("/ws", [("Origin", "http://hub.example.org:8443"), ("Host", "hub.example.org:8443")])
        #expect(WebSocketUpgrade.decide(plain, configuration: tls) == .refuse)
    }

    @Test func behindAProxyXForwardedProtoNarrowsTheHubsOwnOrigin() {
        let host = ("Host", "hub.example.org")
        for (proto, origin, allowed) in [
            ("https", "https://hub.example.org", true), ("https", "http://hub.example.org", false),
            ("http", "http://hub.example.org", true), ("http", "https://hub.example.org", false),
            ("https, http", "https://hub.example.org", true),
        ] {
            let request = head("/ws", [("Origin", origin), host, ("X-Forwarded-Proto", proto)])
            #expect((decide(request, allowedOrigins: []) != .refuse) == allowed, "\(proto) \(origin)")
        }
    }

    @Test func ownHostOnAnotherPortIsNotTheHubsOrigin() {
        let request = head("/ws", [("Origin", "http://hub.example.org:9999"), ("Host", "hub.example.org:8080")])
        #expect(decide(request, allowedOrigins: []) == .refuse)
    }

    @Test func requestWithoutOriginIsAllowed() {
        #expect(decide(head("/ws", [("Host", "hub.example.org")]), allowedOrigins: []) == .accept(subprotocol: nil))
    }

    @Test func refusedOriginIsRefusedEvenWithTheRightSubprotocol() {
        let request = head("/ws", [("Origin", "https://evil.example"), ("Sec-WebSocket-Protocol", "dugnad.v1")])
        #expect(decide(request, allowedOrigins: ["https://app.example.org"]) == .refuse)
    }

    // MARK: Token

    @Test func bearerHeaderGivesTheToken() {
        #expect(WebSocketUpgrade.token(from: head("/ws", [("Authorization", "Bearer abc.def.ghi")])) == "abc.def.ghi")
    }

    @Test(arguments: ["bearer", "BEARER", "BeArEr"])
    func bearerSchemeIsCaseInsensitive(_ scheme: String) {
        #expect(WebSocketUpgrade.token(from: head("/ws", [("Authorization", "\(scheme) tok")])) == "tok")
    }

    /// Spaces and tabs around the token are not part of it; a header that is only the
    /// scheme gives no token (and the query is read instead).
    @Test func spacesAroundTheBearerTokenAreTrimmed() {
        #expect(WebSocketUpgrade.token(from: head("/ws", [("Authorization", "Bearer    abc.def\t ")])) == "abc.def")
        #expect(WebSocketUpgrade.token(from: head("/ws", [("Authorization", "Bearer \t ")])) == nil)
        #expect(WebSocketUpgrade.token(from: head("/ws?token=q", [("Authorization", "Bearer  ")])) == "q")
        #expect(WebSocketUpgrade.token(from: head("/ws", [("Authorization", "Bearer a b")])) == "a b")
    }

    @Test func headerTakesPrecedenceOverQuery() {
        let request = head("/ws?token=from-query", [("Authorization", "Bearer from-header")])
        #expect(WebSocketUpgrade.token(from: request) == "from-header")
    }

    @Test func nonBearerAuthorizationFallsBackToTheQuery() {
        let request = head("/ws?token=from-query", [("Authorization", "Basic dXNlcjpwYXNz")])
        #expect(WebSocketUpgrade.token(from: request) == "from-query")
    }

    @Test func queryTokenIsFoundAmongOtherParameters() {
        #expect(WebSocketUpgrade.token(from: head("/ws?token=abc")) == "abc")
        #expect(WebSocketUpgrade.token(from: head("/ws?v=1&token=abc&x=2")) == "abc")
        #expect(WebSocketUpgrade.token(from: head("/ws?tokens=no&token=yes")) == "yes")
    }

    @Test func queryTokenIsPercentDecoded() {
        #expect(WebSocketUpgrade.token(from: head("/ws?token=a%2Eb%2Dc%3D")) == "a.b-c=")
        #expect(WebSocketUpgrade.token(from: head("/ws?token=dgn_%2Bkey")) == "dgn_+key")
    }

    @Test func queryTokenWithBrokenPercentEncodingIsKeptAsSent() {
        #expect(WebSocketUpgrade.token(from: head("/ws?token=abc%zz")) == "abc%zz")
    }

    @Test func noTokenAnywhereIsNil() {
        #expect(WebSocketUpgrade.token(from: head("/ws")) == nil)
        #expect(WebSocketUpgrade.token(from: head("/ws?v=1")) == nil)
        #expect(WebSocketUpgrade.token(from: head("/ws", [("Authorization", "Basic dXNlcjpwYXNz")])) == nil)
    }
}
