import DugnadProtocol
import Foundation

/// The parts of the provider's discovery document (`/.well-known/openid-configuration`)
/// the hub uses.
public struct ProviderMetadata: Sendable, Equatable {
    public var authorizationEndpoint: String
    public var tokenEndpoint: String
    public var jwksURI: String
    public var endSessionEndpoint: String?

    /// Parses the document and checks that it is the configured issuer's (OpenID Connect
    /// Discovery §4.3: its `issuer` must equal the URL it was fetched for) and that its
    /// endpoints may be used (https, or http where the issuer may be).
    public static func parse(_ bytes: [UInt8], configuration: OIDCConfiguration) throws(SignInFailure) -> ProviderMetadata {
        guard let document = try? JSONParser.parse(bytes) else {
            throw .providerUnreachable("the discovery document is not JSON")
        }
        guard document["issuer"]?.stringValue == configuration.issuer else {
            throw .providerUnreachable("the discovery document names another issuer")
        }
        guard let authorization = document["authorization_endpoint"]?.stringValue,
            let token = document["token_endpoint"]?.stringValue, let jwks = document["jwks_uri"]?.stringValue
        else { throw .providerUnreachable("the discovery document lacks an endpoint") }
        let endSession = document["end_session_endpoint"]?.stringValue
        for endpoint in [authorization, token, jwks] + (endSession.map { [$0] } ?? [])
        where !Self.mayUse(endpoint, configuration: configuration) {
            throw .providerUnreachable("the discovery document has an endpoint the hub may not use: \(endpoint)")
        }
        return ProviderMetadata(
            authorizationEndpoint: authorization, tokenEndpoint: token, jwksURI: jwks, endSessionEndpoint: endSession)
    }

    static func mayUse(_ endpoint: String, configuration: OIDCConfiguration) -> Bool {
        guard let url = URL(string: endpoint), let host = url.host else { return false }
        switch url.scheme?.lowercased() {
        case "https": return true
        case "http": return configuration.allowInsecureHTTP || OIDCConfiguration.isLoopback(host)
        default: return false
        }
    }

    /// The URL the browser is sent to: authorization code flow with PKCE S256, `state`
    /// and `nonce`.
    public func authorizationURL(for login: PendingLogin, configuration: OIDCConfiguration) -> String {
        let query = FormEncoding.encode([
            ("response_type", "code"),
            ("client_id", configuration.clientID),
            ("redirect_uri", login.redirectURI),
            ("scope", configuration.scopes.joined(separator: " ")),
            ("state", login.state),
            ("nonce", login.nonce),
            ("code_challenge", PKCE.challenge(for: login.codeVerifier)),
            ("code_challenge_method", "S256"),
        ])
        return authorizationEndpoint + (authorizationEndpoint.contains("?") ? "&" : "?") + query
    }
}

/// `application/x-www-form-urlencoded`, for the authorization URL's query and the token
/// request's body.
enum FormEncoding {
    /// Unreserved characters of RFC 3986 stay; everything else is percent-encoded.
    static let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { name, value in
            (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + "="
                + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }
}
