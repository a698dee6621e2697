import Foundation
import NIOSSL

/// Reads a certificate and key into a server `NIOSSLContext`, refusing what would only fail
/// later in every handshake: an unreadable file, an expired certificate, a key that is not
/// the certificate's. Blocking file I/O: run it off the event loops.
enum CertificatePair {
    static func makeContext(_ files: TLSFiles, now: Date = Date()) throws(TLSSetupError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificatePath)
        } catch {
            throw TLSSetupError(.unreadable(path: files.certificatePath, what: "certificate"))
        }
        guard let leaf = chain.first else { throw TLSSetupError(.noCertificate(path: files.certificatePath)) }
        let notValidAfter = Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter))
        guard notValidAfter > now else {
            throw TLSSetupError(.expired(path: files.certificatePath, notValidAfter: notValidAfter))
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.keyPath, format: .pem)
        } catch {
            throw TLSSetupError(.unreadable(path: files.keyPath, what: "key"))
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        // TLS 1.3 is preferred by both sides whenever offered (the maximum is 1.3); 1.2 stays
        // for older clients. Nothing older: 1.0 and 1.1 are deprecated (RFC 8996).
        configuration.minimumTLSVersion = .tlsv12
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch NIOSSLError.failedToLoadPrivateKey {
            // Both files parsed; BoringSSL refuses a key whose public half is not the leaf's.
            throw TLSSetupError(.keyMismatch(certificatePath: files.certificatePath, keyPath: files.keyPath))
        } catch {
            throw TLSSetupError(.refused(detail: "\(error)"))
        }
    }
}
