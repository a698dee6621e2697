import DugnadProtocol
import JWTKit

/// The provider's signing keys, from one fetch of its JWKS: jwt-kit's collection, and the
/// key ids it holds. jwt-kit falls back to its default key for a `kid` it does not know,
/// so the ids are checked here first: an unknown `kid` means "fetch the set again", not
/// "try another key".
public struct ProviderKeys: Sendable {
    public let collection: JWTKeyCollection
    public let keyIDs: Set<String>

    /// The keys of a JWKS document. Keys this hub cannot use (encryption keys, unknown
    /// types) are skipped; a set with no usable signing key is an error.
    public static func parse(jwks bytes: [UInt8]) async throws -> ProviderKeys {
        guard case .array(let entries)? = try? JSONParser.parse(bytes)["keys"] else {
            throw SignInFailure.providerUnreachable("the JWKS has no 'keys' array")
        }
        let collection = JWTKeyCollection()
        var keyIDs: Set<String> = []
        for entry in entries {
            guard let kid = entry["kid"]?.stringValue, entry["use"]?.stringValue ?? "sig" == "sig",
                let kty = entry["kty"]?.stringValue, kty == "RSA" || kty == "EC" || kty == "OKP"
            else { continue }
            do {
                let jwk = try JWTKit.JWK(json: entry.jsonString())
                try await collection.add(jwk: jwk)
                keyIDs.insert(kid)
            } catch {
                continue
            }
        }
        guard !keyIDs.isEmpty else { throw SignInFailure.providerUnreachable("the JWKS holds no usable signing key") }
        return ProviderKeys(collection: collection, keyIDs: keyIDs)
    }
}
