import DugnadProtocol
import DugnadTokens
import Foundation
import JWTKit

/// Verifies the JWTs people connect with. HS256 with a shared secret is the default;
/// RS256 or ES256 with a PEM public key serve deployments whose identity provider signs.
///
/// The header's `alg` is checked against the configured algorithm before jwt-kit runs, so
/// `alg: none` and an HS token presented to an RS deployment (the key-confusion attack)
/// are refused as `invalid_token` without ever reaching a verifier.
public struct TokenVerifier: Sendable {
    public enum Algorithm: String, Sendable {
        case hs256 = "HS256"
        case rs256 = "RS256"
        case es256 = "ES256"
    }

    public struct Configuration: Sendable {
        public var algorithm: Algorithm
        /// For HS256: the shared secret (at least 32 bytes).
        public var secret: [UInt8]?
        /// For RS256/ES256: the PEM public key.
        public var publicKeyPEM: String?
        /// Accept tokens without `exp`. Default false: a token that never expires cannot be revoked by time.
        public var allowNoExpiry: Bool = false
        /// When set, `iss` must equal it.
        public var issuer: String?
        /// When set, `aud` must contain it.
        public var audience: String?

        public init(
            algorithm: Algorithm = .hs256, secret: [UInt8]? = nil, publicKeyPEM: String? = nil,
            allowNoExpiry: Bool = false, issuer: String? = nil, audience: String? = nil
        ) {
            self.algorithm = algorithm
            self.secret = secret
            self.publicKeyPEM = publicKeyPEM
            self.allowNoExpiry = allowNoExpiry
            self.issuer = issuer
            self.audience = audience
        }
    }

    /// The minimum HS256 secret length: shorter keys are guessable, and jwt-kit asserts on them.
    public static let minimumSecretBytes = TokenSigner.minimumSecretBytes

    private let configuration: Configuration
    private let keys: JWTKeyCollection

    public init(configuration: Configuration) async throws {
        self.configuration = configuration
        let keys = JWTKeyCollection()
        switch configuration.algorithm {
        case .hs256:
            guard let secret = configuration.secret, secret.count >= Self.minimumSecretBytes else {
                throw ConfigurationError("the JWT secret must be at least \(Self.minimumSecretBytes) bytes")
            }
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        case .rs256, .es256:
            // An identity provider's key signs tokens for many applications: without the
            // audience (and the issuer) checked, a token it issued for any of them would
            // sign in here.
            guard configuration.issuer?.isEmpty == false, configuration.audience?.isEmpty == false else {
                throw ConfigurationError(
                    "\(configuration.algorithm.rawValue) needs --jwt-issuer and --jwt-audience: the provider's key also signs tokens meant for other applications"
                )
            }
        }
        switch configuration.algorithm {
        case .hs256:
            break
        case .rs256:
            guard let pem = configuration.publicKeyPEM else { throw ConfigurationError("RS256 needs a public key file") }
            await keys.add(rsa: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: .sha256)
        case .es256:
            guard let pem = configuration.publicKeyPEM else { throw ConfigurationError("ES256 needs a public key file") }
            await keys.add(ecdsa: try ES256PublicKey(pem: pem))
        }
        self.keys = keys
    }

    /// Verifies `token` at time `now` (ms since the epoch) and returns who it names.
    public func verify(_ token: String, now: Int64) async -> Result<Principal, AuthFailure> {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, token.utf8.count <= 16_384,
            let headerBytes = Base64URL.decode(parts[0]),
            let header = try? JSONParser.parse(headerBytes),
            case .string(let alg)? = header["alg"]
        else { return .failure(.invalidToken) }
        guard alg == configuration.algorithm.rawValue else { return .failure(.invalidToken) }

        let claims: TokenClaims
        do {
            claims = try await keys.verify(token, as: TokenClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            return .failure(.badSignature)
        } catch {
            return .failure(.invalidToken)
        }
        return Self.principal(from: claims, configuration: configuration, now: now)
    }

    /// Seconds (a JWT NumericDate, finite) as milliseconds, clamped to what `Int64` holds:
    /// a claim a billion years away is "far in the future", not a crash.
    static func millis(_ seconds: Double) -> Int64 {
        let millis = (seconds * 1000).rounded(.down)
        if millis >= 9.2e18 { return Int64.max / 2 }
        if millis <= -9.2e18 { return Int64.min / 2 }
        return Int64(millis)
    }

    static func principal(from claims: TokenClaims, configuration: Configuration, now: Int64) -> Result<Principal, AuthFailure> {
        guard let sub = claims.sub, !sub.isEmpty, sub.utf8.count <= Limits.maxIDBytes else { return .failure(.invalidToken) }
        // People and bots live in separate namespaces: a person's `sub` may not take the
        // form of a bot's id (`bot:<key id>`), or a token could act as that key's bot.
        // U+0000 is refused in ids and names everywhere (storage would cut the text there).
        guard !sub.hasPrefix(APIKeys.botUserIDPrefix), !sub.utf8.contains(0), !(claims.name?.utf8.contains(0) ?? false)
        else { return .failure(.invalidToken) }
        if claims.exp.map({ !$0.isFinite }) ?? false || claims.nbf.map({ !$0.isFinite }) ?? false {
            return .failure(.invalidToken)
        }
        let expiresAt = claims.exp.map(Self.millis)
        if expiresAt == nil, !configuration.allowNoExpiry { return .failure(.invalidToken) }
        if let expiresAt, expiresAt <= now { return .failure(.tokenExpired) }
        if let nbf = claims.nbf.map(Self.millis), nbf > now { return .failure(.tokenNotYetValid) }
        if let issuer = configuration.issuer, claims.iss != issuer { return .failure(.invalidToken) }
        if let audience = configuration.audience, !(claims.aud?.value.contains(audience) ?? false) {
            return .failure(.invalidToken)
        }
        var roles = Set((claims.roles ?? []).compactMap(Role.init(rawValue:)))
        if roles.isEmpty { roles = [.member] }
        let name = claims.name.flatMap { $0.isEmpty ? nil : String($0.prefix(200)) } ?? sub
        return .success(
            Principal(
                userID: sub, name: name, roles: roles, channels: Set((claims.channels ?? []).filter(ChannelName.isValid)),
                expiresAt: expiresAt))
    }
}

/// A configuration that cannot work, explained for the operator.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Base64url without padding, as JWT uses it.
enum Base64URL {
    static func decode(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64).map { [UInt8]($0) }
    }
}

extension TokenVerifier.Configuration: CustomStringConvertible, CustomDebugStringConvertible {
    /// The algorithm and the checks, never the secret itself: a log that shows the
    /// configuration must not let its reader mint tokens.
    public var description: String {
        var parts = [algorithm.rawValue]
        if let secret { parts.append("secret: \(secret.count) bytes (redacted)") }
        if publicKeyPEM != nil { parts.append("public key: set") }
        if let issuer { parts.append("issuer: \(issuer)") }
        if let audience { parts.append("audience: \(audience)") }
        if allowNoExpiry { parts.append("tokens without expiry accepted") }
        return "TokenVerifier.Configuration(" + parts.joined(separator: ", ") + ")"
    }

    public var debugDescription: String { description }
}
