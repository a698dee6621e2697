import Foundation

/// Sign-in with an OpenID Connect provider (`dugnad serve --oidc-issuer`). The CLI and the
/// tests build the same struct; `SignInService` runs on it.
public struct OIDCConfiguration: Sendable {
    /// The provider's issuer URL, exactly as its discovery document names it (`iss` of its
    /// ID tokens must equal it).
    public var issuer: String
    /// This hub's client id at the provider: the ID token's `aud` must contain it.
    public var clientID: String
    /// Nil for a public client (PKCE alone); else sent as `client_secret_post`.
    public var clientSecret: String?
    /// Shown as "Sign in with <name>". Default: the issuer's host.
    public var providerName: String
    /// The callback URL registered at the provider. Default nil: made from the request's
    /// `Host` and the hub's scheme (`https` under TLS), `<scheme>://<host>/auth/callback`.
    public var redirectURI: String?
    /// Scopes asked for. Default `openid profile` (the contract requires `openid`).
    public var scopes = ["openid", "profile"]
    public var claims = ClaimsMapping()
    /// Seconds a hub session token (the WebSocket's credential) lives. Default 300: a group
    /// removed at the provider ends access within this long once the hub knows of it.
    public var tokenTTLSeconds: Int64 = 300
    /// Seconds a hub session (the cookie) lives from sign-in, whatever the provider says.
    /// Default 8 hours: a working day; then the person signs in again.
    public var sessionLifetimeSeconds: Int64 = 8 * 3600
    /// Seconds after which the hub asks the provider again (refresh token grant) before it
    /// mints another session token, so that group changes arrive. Default 300.
    public var recheckIntervalSeconds: Int64 = 300
    /// Seconds the last answer from the provider may be used while the provider cannot be
    /// reached. Default 3600: a provider outage of an hour does not sign everyone out;
    /// after that, no new session token is minted until it answers.
    public var staleLimitSeconds: Int64 = 3600
    /// Seconds between two fetches of the JWKS for an unknown `kid`. Default 60: a token
    /// with a made-up `kid` cannot make the hub hammer the provider.
    public var jwksRefetchIntervalSeconds: Int64 = 60
    /// Seconds a login (its `state`, `nonce` and PKCE verifier) waits for its callback. Default 600.
    public var loginTimeoutSeconds: Int64 = 600
    /// Logins waiting for their callback at once; the oldest is dropped past it. Default 10,000.
    public var maxPendingLogins = 10_000
    /// Hub sessions held at once; the oldest is dropped past it. Default 100,000.
    public var maxSessions = 100_000
    /// Talk plain `http` to an issuer that is not on loopback. Default false: the ID token
    /// and the authorization code must not cross a network in clear.
    public var allowInsecureHTTP = false

    public init(issuer: String, clientID: String, clientSecret: String? = nil, providerName: String? = nil) {
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.providerName = providerName ?? URL(string: issuer)?.host ?? issuer
    }

    /// Why this configuration cannot work, or nil when it can.
    public func problem() -> String? {
        guard let url = URL(string: issuer), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty,
            url.query == nil, url.fragment == nil
        else {
            return "--oidc-issuer must be an absolute URL without query or fragment, e.g. https://login.example.com/realms/staff"
        }
        switch scheme {
        case "https": break
        case "http":
            guard allowInsecureHTTP || Self.isLoopback(host) else {
                return "--oidc-issuer uses http on \(host): only loopback issuers may (or pass --oidc-allow-http)"
            }
        default: return "--oidc-issuer must be an https URL"
        }
        if clientID.isEmpty { return "--oidc-client-id must not be empty" }
        if !scopes.contains("openid") { return "the scopes must include openid" }
        if tokenTTLSeconds < 30 { return "--oidc-token-ttl must be at least 30 seconds" }
        if sessionLifetimeSeconds < tokenTTLSeconds { return "--oidc-session-lifetime must be at least --oidc-token-ttl" }
        if recheckIntervalSeconds < 0 || staleLimitSeconds < 0 || jwksRefetchIntervalSeconds < 0 {
            return "OIDC intervals must be 0 or more seconds"
        }
        if let redirectURI, URL(string: redirectURI)?.scheme == nil { return "--oidc-redirect-uri must be an absolute URL" }
        return claims.problem()
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}

extension OIDCConfiguration: CustomStringConvertible {
    /// Everything but the client secret: this is what a log may show.
    public var description: String {
        "OIDCConfiguration(issuer: \(issuer), clientID: \(clientID), clientSecret: \(clientSecret == nil ? "none" : "set (redacted)"), "
            + "scopes: \(scopes.joined(separator: " ")), \(claims))"
    }
}
