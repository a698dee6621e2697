import Crypto
import Foundation

/// Proof Key for Code Exchange (RFC 7636), S256 only: the verifier stays in the hub, the
/// provider sees its SHA-256. A stolen authorization code is useless without it.
public enum PKCE {
    /// A fresh verifier: 32 random bytes, base64url (43 characters, within RFC 7636's 43–128).
    public static func makeVerifier() -> String { RandomText.make(bytes: 32) }

    /// `BASE64URL(SHA256(ASCII(verifier)))`.
    public static func challenge(for verifier: String) -> String {
        Base64URL.encode(Array(SHA256.hash(data: Array(verifier.utf8))))
    }
}

/// Unguessable values for `state`, `nonce`, verifiers and session ids.
enum RandomText {
    static func make(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<bytes).map { _ in generator.next() as UInt8 })
    }
}

/// Base64url without padding (RFC 4648 §5), as PKCE and JWT use it.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64).map { [UInt8]($0) }
    }
}
