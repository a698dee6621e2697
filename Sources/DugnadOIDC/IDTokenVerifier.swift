import DugnadProtocol
import JWTKit

/// Checks an ID token (OpenID Connect Core §3.1.3.7) against the provider's keys: an
/// asymmetric algorithm (never `none` or HMAC: the client secret is no signing key here),
/// a known `kid`, the signature, `iss`, `aud` (and `azp` when there are several audiences),
/// `exp` and the login's `nonce` (none after a refresh). Pure but for jwt-kit's key actor: no network.
public struct IDTokenVerifier: Sendable {
    public let issuer: String
    public let clientID: String
    /// Seconds of clock difference with the provider tolerated on `exp`. Default 60.
    public var leewaySeconds: Int64 = 60

    /// Signing algorithms accepted. HMAC is left out on purpose (see above).
    static let algorithms: Set<String> = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
    ]

    public init(issuer: String, clientID: String) {
        self.issuer = issuer
        self.clientID = clientID
    }

    /// What the header says about the key, read before any key is chosen.
    public enum KeyLookup: Equatable, Sendable {
        case known
        /// The token names a key the set does not hold: fetch the set again (bounded).
        case unknownKeyID
        case refused(SignInFailure)
    }

    public func lookup(_ token: String, in keys: ProviderKeys) -> KeyLookup {
        guard let header = Self.header(of: token) else { return .refused(.badIDToken("the ID token is not a JWT")) }
        guard let alg = header["alg"]?.stringValue, Self.algorithms.contains(alg) else {
            return .refused(.badIDToken("the ID token's algorithm is not accepted"))
        }
        guard let kid = header["kid"]?.stringValue else {
            // Without a `kid` only a set of exactly one key says which key signed.
            return keys.keyIDs.count == 1 ? .known : .refused(.badIDToken("the ID token names no key"))
        }
        return keys.keyIDs.contains(kid) ? .known : .unknownKeyID
    }

    /// The verified claims, or why not. `lookup` must have said `.known`.
    public func verify(_ token: String, keys: ProviderKeys, nonce: String?, nowMillis: Int64) async -> Result<
        JSONValue, SignInFailure
    > {
        if case .refused(let failure) = lookup(token, in: keys) { return .failure(failure) }
        let standard: StandardClaims
        do {
            standard = try await keys.collection.verify(token, as: StandardClaims.self)
        } catch {
            return .failure(.badIDToken("signature or format: \(String(describing: error).prefix(120))"))
        }
        // The payload jwt-kit just verified, as JSON for the configurable claims.
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(parts[1]), let claims = try? JSONParser.parse(payload) else {
            return .failure(.badIDToken("the ID token's payload is not JSON"))
        }
        return check(standard, nonce: nonce, nowMillis: nowMillis).map { claims }
    }

    func check(_ claims: StandardClaims, nonce: String?, nowMillis: Int64) -> Result<Void, SignInFailure> {
        guard claims.iss == issuer else { return .failure(.badIDToken("iss is not the configured issuer")) }
        let audiences = claims.aud?.value ?? []
        guard audiences.contains(clientID) else { return .failure(.badIDToken("aud does not name this hub's client id")) }
        if audiences.count > 1, claims.azp != clientID {
            return .failure(.badIDToken("several audiences and azp is not this hub's client id"))
        }
        guard let exp = claims.exp, exp.isFinite else { return .failure(.badIDToken("the ID token has no exp")) }
        guard exp * 1000 + Double(leewaySeconds * 1000) > Double(nowMillis) else { return .failure(.expiredIDToken) }
        if let nonce, claims.nonce != nonce { return .failure(.badNonce) }
        return .success(())
    }

    static func header(of token: String) -> JSONValue? {
        guard token.utf8.count <= 16_384, let first = token.split(separator: ".", omittingEmptySubsequences: false).first,
            let bytes = Base64URL.decode(first)
        else { return nil }
        return try? JSONParser.parse(bytes)
    }
}

/// The ID token claims every provider sends; checked by `IDTokenVerifier.check` so that
/// each failure has its own reason.
struct StandardClaims: JWTPayload {
    var iss: String?
    var sub: String?
    var aud: AudienceClaim?
    var exp: Double?
    var iat: Double?
    var nonce: String?
    var azp: String?

    func verify(using algorithm: some JWTAlgorithm) throws {}
}
