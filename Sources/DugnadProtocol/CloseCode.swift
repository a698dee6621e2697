/// WebSocket close codes the hub uses (section 1). 4000–4499: the client may reconnect;
/// 4500–4999: it must not.
public enum CloseCode: UInt16, Sendable {
    case normal = 1000
    case goingAway = 1001
    case protocolError = 1002
    case unsupportedData = 1003
    case invalidPayload = 1007
    case policyViolation = 1008
    case messageTooBig = 1009
    case internalError = 1011
    case unauthorized = 4001
    case slowConsumer = 4008
    case rateLimited = 4029
    case revoked = 4500
}

/// The close reasons of section 2 that go with code 4001 (and 4500).
public enum AuthFailure: String, Sendable, Error, Equatable {
    case missingToken = "missing_token"
    case authTimeout = "auth_timeout"
    case invalidToken = "invalid_token"
    case badSignature = "bad_signature"
    case tokenExpired = "token_expired"
    case tokenNotYetValid = "token_not_yet_valid"
    case keyRevoked = "key_revoked"
    /// An admin banned the user (4500: do not reconnect).
    case banned
    case forbidden
    /// The credential could not be checked because storage did not answer (an API key's
    /// lookup): not the credential's fault, so the client may retry it as it is.
    case storageUnavailable = "storage_unavailable"

    /// 4500 for a revoked key or a banned user (must not reconnect), 1011 when storage could not
    /// check the credential (reconnect later), 4001 otherwise.
    public var closeCode: CloseCode {
        switch self {
        case .keyRevoked, .banned: .revoked
        case .storageUnavailable: .internalError
        default: .unauthorized
        }
    }
}
