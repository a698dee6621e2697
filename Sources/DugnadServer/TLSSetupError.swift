import Foundation

/// Why a certificate and key cannot serve: said so that an operator knows which file to fix.
/// Thrown at start (the hub does not start) and by a reload (the hub keeps its old pair).
public struct TLSSetupError: Error, CustomStringConvertible, Equatable {
    enum Reason: Equatable {
        case unreadable(path: String, what: String)
        case noCertificate(path: String)
        case expired(path: String, notValidAfter: Date)
        case keyMismatch(certificatePath: String, keyPath: String)
        case refused(detail: String)
    }

    let reason: Reason

    init(_ reason: Reason) { self.reason = reason }

    public var isExpired: Bool {
        if case .expired = reason { return true }
        return false
    }

    public var isKeyMismatch: Bool {
        if case .keyMismatch = reason { return true }
        return false
    }

    public var description: String {
        switch reason {
        case .unreadable(let path, let what):
            return "cannot read the TLS \(what) in \(path): not a readable PEM file"
        case .noCertificate(let path):
            return "no certificate in \(path)"
        case .expired(let path, let notValidAfter):
            return "the TLS certificate in \(path) expired on \(notValidAfter.ISO8601Format())"
        case .keyMismatch(let certificatePath, let keyPath):
            return "the TLS key in \(keyPath) does not belong to the certificate in \(certificatePath)"
        case .refused(let detail):
            return "the TLS certificate and key were refused: \(detail)"
        }
    }
}
