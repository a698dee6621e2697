import Crypto
import Foundation
import NIOSSL
import X509

/// A self-signed certificate for `localhost` and its P-256 key, made in the test (no
/// `openssl` binary needed), as PEM files a hub is pointed at.
public struct TestCertificate: Sendable {
    public let certificatePEM: String
    public let keyPEM: String
    /// The certificate as DER: what `TLSProbe.servedCertificate` is compared with.
    public let der: [UInt8]

    /// Valid from a day ago for `days` days; a negative `days` makes one that has expired.
    public init(commonName: String = "localhost", days: Int = 30) throws {
        let key = P256.Signing.PrivateKey()
        let now = Date()
        let name = try DistinguishedName { CommonName(commonName) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-86_400 * (days < 0 ? 2 - Double(days) : 1)),
            notValidAfter: now.addingTimeInterval(86_400 * Double(days)), issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                // No KeyUsage: one without keyCertSign makes BoringSSL not take the
                // certificate for self-signed, and so not as its own trust root.
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName(commonName)])
            },
            issuerPrivateKey: .init(key))
        let pem = try certificate.serializeAsPEM()
        certificatePEM = pem.pemString
        der = pem.derBytes
        keyPEM = key.pemRepresentation
    }

    /// Writes `<name>.crt` and `<name>.key` into `folder`; returns their paths.
    public func write(to folder: String, name: String) throws -> (certificate: String, key: String) {
        let certificate = folder + "/\(name).crt"
        let key = folder + "/\(name).key"
        try Data(certificatePEM.utf8).write(to: URL(fileURLWithPath: certificate))
        try Data(keyPEM.utf8).write(to: URL(fileURLWithPath: key))
        return (certificate, key)
    }

    /// A client context that trusts this certificate and nothing else, and checks the host
    /// name against it: a real client's checks, with this certificate as the only root.
    public func clientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([try NIOSSLCertificate(bytes: der, format: .der)])
        configuration.certificateVerification = .fullVerification
        return try NIOSSLContext(configuration: configuration)
    }
}
