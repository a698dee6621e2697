import DugnadProtocol
import DugnadTokens
import Logging
import NIOConcurrencyHelpers

/// Sign-in with the provider, from the browser's first click to the hub's own session
/// token: the steps behind `/auth/login`, `/auth/callback`, `/auth/session` and
/// `/auth/logout`, without HTTP (the server's `AuthEndpoints` speaks that).
public final class SignInService: Sendable {
    public let configuration: OIDCConfiguration
    public let provider: ProviderClient
    public let sessions: SignInSessions
    private let pending: NIOLockedValueBox<PendingLogins>
    private let verifier: IDTokenVerifier
    /// The hub's HS256 secret: session tokens are the hub's own, verified like any other.
    private let secret: [UInt8]
    private let logger: Logger

    public init(configuration: OIDCConfiguration, provider: ProviderClient, secret: [UInt8], logger: Logger) {
        self.configuration = configuration
        self.provider = provider
        self.sessions = SignInSessions(limit: configuration.maxSessions)
        self.pending = NIOLockedValueBox(
            PendingLogins(limit: configuration.maxPendingLogins, timeoutMillis: configuration.loginTimeoutSeconds * 1000))
        self.verifier = IDTokenVerifier(issuer: configuration.issuer, clientID: configuration.clientID)
        self.secret = secret
        self.logger = logger
    }

    /// Where to send the browser, and the login's `state` (for the cookie that ties the
    /// callback to this browser).
    public func begin(redirectURI: String, now: Int64) async -> Result<(location: String, state: String), SignInFailure> {
        let metadata: ProviderMetadata
        do {
            metadata = try await provider.discover()
        } catch {
            return .failure(error)
        }
        let login = pending.withLockedValue { $0.begin(redirectURI: configuration.redirectURI ?? redirectURI, now: now) }
        return .success((metadata.authorizationURL(for: login, configuration: configuration), login.state))
    }

    /// The callback: `query` as the provider sent it, `browserState` from the cookie set at
    /// `begin`. A new session, or why not (nothing is signed in then).
    public func complete(query: [String: String], browserState: String?, now: Int64) async -> Result<SignInSession, SignInFailure>
    {
        guard let state = query["state"], let login = pending.withLockedValue({ $0.take(state: state, now: now) }) else {
            return .failure(.badState)
        }
        // Login CSRF: a callback URL made for someone else's login is refused here.
        guard browserState == state else { return .failure(.badState) }
        if let error = query["error"] { return .failure(.providerError(String(error.prefix(100)))) }
        guard let code = query["code"], !code.isEmpty else { return .failure(.providerError("the callback has no code")) }
        do {
            let answer = try await provider.token([
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", login.redirectURI),
                ("code_verifier", login.codeVerifier),
            ])
            guard let idToken = answer.idToken else { throw SignInFailure.badIDToken("the token endpoint sent no ID token") }
            let identity = try await verifiedIdentity(idToken, nonce: login.nonce, now: now)
            let session = sessions.create(
                identity: identity, refreshToken: answer.refreshToken, now: now,
                lifetimeMillis: configuration.sessionLifetimeSeconds * 1000)
            logger.info("signed in through \(configuration.providerName): \(identity.userID), roles \(identity.roles)")
            return .success(session)
        } catch let failure as SignInFailure {
            return .failure(failure)
        } catch {
            return .failure(.providerUnreachable("\(error)"))
        }
    }

    /// Why `/auth/session` mints nothing.
    public enum SessionRefusal: Error, Sendable, Equatable {
        /// No session, an expired one, or one that ended (signed out, refused by the provider).
        case noSession
        /// The provider has not answered for longer than `staleLimitSeconds`.
        case providerUnreachable
    }

    /// A fresh hub session token for the session `id`, with the claims as the provider
    /// last said them. Past `recheckIntervalSeconds` since the provider last vouched, it is
    /// asked again first (with the refresh token): a refusal ends the session, an outage is
    /// tolerated up to `staleLimitSeconds`.
    public func sessionToken(for id: String, now: Int64) async -> Result<MintedToken, SessionRefusal> {
        guard var session = sessions.session(id, now: now) else { return .failure(.noSession) }
        if now - session.checkedAt >= configuration.recheckIntervalSeconds * 1000, let refreshToken = session.refreshToken {
            switch await recheck(session, refreshToken: refreshToken, now: now) {
            case .success(let rechecked):
                session = rechecked
                sessions.update(session)
            case .failure(.providerUnreachable(let why)):
                logger.warning("the provider did not answer a re-check of \(session.identity.userID): \(why)")
                if now - session.checkedAt > configuration.staleLimitSeconds * 1000 { return .failure(.providerUnreachable) }
            case .failure(let refusal):
                logger.notice(
                    "session of \(session.identity.userID) ended: the provider refused it (\(refusal.code): \(refusal.detail))")
                sessions.end(id)
                return .failure(.noSession)
            }
        }
        let ttl = min(configuration.tokenTTLSeconds, (session.expiresAt - now) / 1000)
        guard ttl > 0 else { return .failure(.noSession) }
        let identity = session.identity
        do {
            let token = try await TokenSigner.sign(
                secret: secret, sub: identity.userID, name: identity.name, roles: identity.roles, channels: identity.channels,
                ttlSeconds: ttl, now: .init(timeIntervalSince1970: Double(now) / 1000))
            return .success(MintedToken(token: token, expiresAt: (now / 1000 + ttl) * 1000, identity: identity))
        } catch {
            logger.error("could not sign a session token: \(error)")
            return .failure(.noSession)
        }
    }

    /// Ends the session (sign-out). The provider's own session is the provider's; its
    /// end-session URL is returned for the page to visit, when it has one.
    public func end(_ id: String) async -> String? {
        sessions.end(id)
        // What is known already: a sign-out must not wait for a provider that is down.
        return await provider.knownMetadata?.endSessionEndpoint
    }

    private func recheck(_ session: SignInSession, refreshToken: String, now: Int64) async -> Result<SignInSession, SignInFailure>
    {
        do {
            let answer = try await provider.token([("grant_type", "refresh_token"), ("refresh_token", refreshToken)])
            var session = session
            if let idToken = answer.idToken {
                // A refreshed ID token carries no nonce (OpenID Connect Core §12.2).
                let identity = try await verifiedIdentity(idToken, nonce: nil, now: now)
                guard identity.userID == session.identity.userID else {
                    throw SignInFailure.unusableClaims("the refreshed ID token names another user")
                }
                session.identity = identity
            }
            session.refreshToken = answer.refreshToken ?? refreshToken
            session.checkedAt = now
            return .success(session)
        } catch let failure as SignInFailure {
            return .failure(failure)
        } catch {
            return .failure(.providerUnreachable("\(error)"))
        }
    }

    private func verifiedIdentity(_ idToken: String, nonce: String?, now: Int64) async throws -> SignedInIdentity {
        let keys = try await provider.keys(for: idToken, verifier: verifier, now: now)
        let claims = try await verifier.verify(idToken, keys: keys, nonce: nonce, nowMillis: now).get()
        return try configuration.claims.identity(from: claims).get()
    }
}

/// A hub session token, as `/auth/session` hands it to the page.
public struct MintedToken: Sendable {
    public var token: String
    /// Milliseconds since the epoch.
    public var expiresAt: Int64
    public var identity: SignedInIdentity
}
