/// Where the hub's certificate and private key are: PEM files, read at start and again on
/// every reload (`DugnadApplication.reloadCertificate()`), so that a renewed pair written
/// over the old one is picked up without a restart.
public struct TLSFiles: Sendable, Equatable {
    /// The certificate, followed by any intermediates (the chain the client is sent).
    public var certificatePath: String
    /// The private key of the first certificate, unencrypted.
    public var keyPath: String

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}
