import AsyncHTTPClient
import DugnadProtocol
import Foundation
import NIOCore
import NIOHTTP1

/// The hub's side of the conversation with the provider, over HTTPS (AsyncHTTPClient with
/// the system's trust store): the discovery document and the JWKS, both kept once fetched,
/// and the token endpoint. An actor: the cached document and keys change as they are
/// fetched again, from any request's task.
public actor ProviderClient {
    private let configuration: OIDCConfiguration
    private let http: HTTPClient
    private var metadata: ProviderMetadata?
    private var keys: ProviderKeys?
    /// When the JWKS was last fetched (ms since the epoch), for the refetch bound.
    private var keysFetchedAt: Int64?
    /// The last failed fetch of the discovery document: for `discoveryRetryDelay` after
    /// it, sign-ins are answered with that failure at once, so that a provider that is
    /// down is not asked (and waited for) once per click.
    private var discoveryFailure: (at: ContinuousClock.Instant, failure: SignInFailure)?
    static let discoveryRetryDelay = Duration.seconds(5)
    /// Largest answer read from the provider. 1 MiB: a JWKS or a token response is a few KiB.
    static let maxResponseBytes = 1 << 20
    static let timeout = TimeAmount.seconds(10)

    public init(configuration: OIDCConfiguration, http: HTTPClient) {
        self.configuration = configuration
        self.http = http
    }

    /// The discovery document, fetched at first use and kept (a provider that was down at
    /// the hub's start is asked again at the next sign-in).
    public func discover() async throws(SignInFailure) -> ProviderMetadata {
        if let metadata { return metadata }
        if let discoveryFailure, ContinuousClock.now - discoveryFailure.at < Self.discoveryRetryDelay {
            throw discoveryFailure.failure
        }
        let url = configuration.issuer.hasSuffix("/") ? configuration.issuer : configuration.issuer + "/"
        do {
            let bytes = try await get(url + ".well-known/openid-configuration")
            let parsed = try ProviderMetadata.parse(bytes, configuration: configuration)
            metadata = parsed
            discoveryFailure = nil
            return parsed
        } catch {
            discoveryFailure = (ContinuousClock.now, error)
            throw error
        }
    }

    /// The discovery document if it was fetched already (no request).
    public var knownMetadata: ProviderMetadata? { metadata }

    /// Keys to verify `idToken` with: the kept set, or, when the token names a key it does
    /// not hold (the provider rotated), a fresh set, at most once per
    /// `jwksRefetchIntervalSeconds`.
    public func keys(for idToken: String, verifier: IDTokenVerifier, now: Int64) async throws(SignInFailure) -> ProviderKeys {
        if let keys, verifier.lookup(idToken, in: keys) != .unknownKeyID { return keys }
        if keys != nil, let keysFetchedAt, now - keysFetchedAt < configuration.jwksRefetchIntervalSeconds * 1000 {
            throw .badIDToken("the ID token names a key the provider's JWKS does not hold")
        }
        let metadata = try await discover()
        let bytes = try await get(metadata.jwksURI)
        let fresh: ProviderKeys
        do {
            fresh = try await ProviderKeys.parse(jwks: bytes)
        } catch let failure as SignInFailure {
            throw failure
        } catch {
            throw .providerUnreachable("the JWKS could not be read")
        }
        keys = fresh
        keysFetchedAt = now
        if verifier.lookup(idToken, in: fresh) == .unknownKeyID {
            throw .badIDToken("the ID token names a key the provider's JWKS does not hold")
        }
        return fresh
    }

    /// The token endpoint's answer to `grant` (authorization code or refresh token).
    public func token(_ grant: [(String, String)]) async throws(SignInFailure) -> TokenResponse {
        let metadata = try await discover()
        var form = grant + [("client_id", configuration.clientID)]
        if let secret = configuration.clientSecret { form.append(("client_secret", secret)) }
        var request = HTTPClientRequest(url: metadata.tokenEndpoint)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        let (status, bytes) = try await send(request)
        let answer = try? JSONParser.parse(bytes)
        guard status == .ok, let answer else {
            // OAuth 2.0 §5.2: `invalid_grant` is a used, expired or foreign code (or refresh token).
            if (400..<500).contains(status.code), let error = answer?["error"]?.stringValue {
                throw .codeRefused(String(error.prefix(100)))
            }
            throw .providerUnreachable("the token endpoint answered \(status.code)")
        }
        return TokenResponse(idToken: answer["id_token"]?.stringValue, refreshToken: answer["refresh_token"]?.stringValue)
    }

    private func get(_ url: String) async throws(SignInFailure) -> [UInt8] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "accept", value: "application/json")
        let (status, bytes) = try await send(request)
        guard status == .ok else { throw .providerUnreachable("\(url) answered \(status.code)") }
        return bytes
    }

    private func send(_ request: HTTPClientRequest) async throws(SignInFailure) -> (HTTPResponseStatus, [UInt8]) {
        do {
            let response = try await http.execute(request, timeout: Self.timeout)
            let body = try await response.body.collect(upTo: Self.maxResponseBytes)
            return (response.status, Array(buffer: body))
        } catch {
            throw .providerUnreachable("\(request.url): \(String(describing: error).prefix(200))")
        }
    }
}

/// What the token endpoint gave: the ID token (always for a code; a refresh may come
/// without one), and a refresh token when the provider issues one (for re-checking groups
/// without the person).
public struct TokenResponse: Sendable {
    public var idToken: String?
    public var refreshToken: String?
}

extension ProviderClient {
    /// The HTTP client for one hub: on the hub's event loops, TLS with the system's trust
    /// store (AsyncHTTPClient's default), redirects not followed (a token endpoint that
    /// redirects is misconfigured, and a redirect must not carry the code elsewhere).
    public static func makeHTTPClient(group: any EventLoopGroup) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        return HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
    }
}
