import ArgumentParser
import DugnadOIDC
import Foundation

/// `dugnad serve`'s sign-in with an OpenID Connect provider (docs/operations.md, "Sign-in
/// with an OpenID provider", explains each).
struct OIDCOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Issuer URL of an OpenID Connect provider: turns on \"Sign in with <name>\".", valueName: "url"))
    var oidcIssuer: String?

    @Option(help: ArgumentHelp("This hub's client id at the provider.", valueName: "id"))
    var oidcClientID: String?

    @Option(
        help: ArgumentHelp(
            "The client secret, for a confidential client (default: env DUGNAD_OIDC_CLIENT_SECRET; none: PKCE alone).",
            valueName: "secret"))
    var oidcClientSecret: String?

    @Option(help: ArgumentHelp("Name on the sign-in button (default: the issuer's host).", valueName: "name"))
    var oidcProviderName: String?

    @Option(help: ArgumentHelp("Callback URL registered at the provider (default: <this hub>/auth/callback).", valueName: "url"))
    var oidcRedirectURI: String?

    @Option(
        name: .customLong("oidc-scope"),
        help: ArgumentHelp("A scope to ask for besides openid (repeatable; default: profile).", valueName: "scope"))
    var oidcScopes: [String] = []

    @Option(help: ArgumentHelp("Claim that is the Dugnad user id.", valueName: "claim"))
    var oidcUserIDClaim = "sub"

    @Option(help: ArgumentHelp("Claim holding the display name.", valueName: "claim"))
    var oidcNameClaim = "name"

    @Option(help: ArgumentHelp("Claim holding the person's groups.", valueName: "claim"))
    var oidcGroupsClaim = "groups"

    @Option(
        name: .customLong("oidc-admin-group"),
        help: ArgumentHelp("A group whose members are admins (repeatable).", valueName: "group"))
    var oidcAdminGroups: [String] = []

    @Option(
        name: .customLong("oidc-leader-group"),
        help: ArgumentHelp("A group whose members are leaders (repeatable).", valueName: "group"))
    var oidcLeaderGroups: [String] = []

    @Option(
        name: .customLong("oidc-group-channel"),
        help: ArgumentHelp(
            "GROUP=CHANNEL: members of the group may join the private channel (repeatable).", valueName: "group=channel"))
    var oidcGroupChannels: [String] = []

    @Option(help: ArgumentHelp("Seconds a session token lives (the client refreshes it before).", valueName: "seconds"))
    var oidcTokenTTL: Int64 = 300

    @Option(help: ArgumentHelp("Seconds a sign-in lasts before the person signs in again.", valueName: "seconds"))
    var oidcSessionLifetime: Int64 = 8 * 3600

    @Option(
        help: ArgumentHelp(
            "Seconds after which the provider is asked again about a person (groups, account).", valueName: "seconds"))
    var oidcRecheckInterval: Int64 = 300

    @Option(help: ArgumentHelp("Seconds the provider's last answer is used while it cannot be reached.", valueName: "seconds"))
    var oidcStaleLimit: Int64 = 3600

    @Option(help: ArgumentHelp("Seconds between two JWKS fetches for an unknown key id.", valueName: "seconds"))
    var oidcJWKSRefetchInterval: Int64 = 60

    @Flag(help: "Allow an http (not https) issuer that is not on loopback (testing only).")
    var oidcAllowHTTP = false

    /// The configuration, or nil without `--oidc-issuer`.
    func configuration() throws -> OIDCConfiguration? {
        guard let oidcIssuer else {
            guard oidcClientID == nil else { throw ValidationError("--oidc-client-id needs --oidc-issuer.") }
            return nil
        }
        guard let oidcClientID else { throw ValidationError("--oidc-issuer needs --oidc-client-id.") }
        var configuration = OIDCConfiguration(
            issuer: oidcIssuer, clientID: oidcClientID,
            clientSecret: oidcClientSecret ?? ProcessInfo.processInfo.environment["DUGNAD_OIDC_CLIENT_SECRET"],
            providerName: oidcProviderName)
        configuration.redirectURI = oidcRedirectURI
        if !oidcScopes.isEmpty { configuration.scopes = ["openid"] + oidcScopes.filter { $0 != "openid" } }
        configuration.claims.userIDClaim = oidcUserIDClaim
        configuration.claims.nameClaim = oidcNameClaim
        configuration.claims.groupsClaim = oidcGroupsClaim
        configuration.claims.adminGroups = Set(oidcAdminGroups)
        configuration.claims.leaderGroups = Set(oidcLeaderGroups)
        for mapping in oidcGroupChannels {
            let parts = mapping.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--oidc-group-channel '\(mapping)' must be GROUP=CHANNEL.") }
            configuration.claims.channelGroups[String(parts[0]), default: []].insert(String(parts[1]))
        }
        configuration.tokenTTLSeconds = oidcTokenTTL
        configuration.sessionLifetimeSeconds = oidcSessionLifetime
        configuration.recheckIntervalSeconds = oidcRecheckInterval
        configuration.staleLimitSeconds = oidcStaleLimit
        configuration.jwksRefetchIntervalSeconds = oidcJWKSRefetchInterval
        configuration.allowInsecureHTTP = oidcAllowHTTP
        if let problem = configuration.problem() { throw ValidationError(problem + ".") }
        return configuration
    }
}
