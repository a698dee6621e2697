import NIOConcurrencyHelpers
import NIOSSL

/// The TLS context new connections are given, replaced whole by a reload. Behind a lock:
/// every event loop reads it when it accepts a connection, and a reload writes it from a
/// pool thread. A connection keeps the context it started with, so a reload never touches
/// a handshake in progress.
final class ReloadableTLSContext: Sendable {
    let files: TLSFiles
    private let context: NIOLockedValueBox<NIOSSLContext>

    /// Loads the pair; throws if it cannot serve (the hub then does not start).
    init(files: TLSFiles) throws(TLSSetupError) {
        self.files = files
        self.context = NIOLockedValueBox(try CertificatePair.makeContext(files))
    }

    var current: NIOSSLContext { context.withLockedValue { $0 } }

    /// Reads the files again; the new pair serves new connections only if it loads whole,
    /// else the old one stays and the error says why.
    func reload() throws(TLSSetupError) {
        let fresh = try CertificatePair.makeContext(files)
        context.withLockedValue { $0 = fresh }
    }
}
