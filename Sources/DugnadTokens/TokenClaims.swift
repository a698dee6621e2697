import JWTKit

/// The claims of a Dugnad token. Every field is optional so that a missing one is
/// reported as the contract's reason (`invalid_token`) by the verifier in DugnadCore,
/// rather than as a decoding failure here.
public struct TokenClaims: JWTPayload, Equatable {
    public var sub: String?
    public var name: String?
    public var roles: [String]?
    public var channels: [String]?
    /// Seconds since the Unix epoch (fractions allowed, as JWT's NumericDate).
    public var exp: Double?
    public var iat: Double?
    public var nbf: Double?
    public var iss: String?
    public var aud: AudienceClaim?

    public init(
        sub: String?, name: String?, roles: [String]?, channels: [String]?, exp: Double?, iat: Double?,
        nbf: Double? = nil
    ) {
        self.sub = sub
        self.name = name
        self.roles = roles
        self.channels = channels
        self.exp = exp
        self.iat = iat
        self.nbf = nbf
    }

    /// Time and audience claims are checked by the verifier, so each failure gets its own
    /// reason.
    public func verify(using algorithm: some JWTAlgorithm) throws {}
}
