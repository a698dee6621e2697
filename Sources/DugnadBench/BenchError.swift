/// Why a run could not be done. Loss, rejections and slow deliveries are results, reported in
/// ``BenchReport``; these are the failures that leave nothing to report.
///
/// A struct around a private enum, so that cases can be added without breaking callers.
public struct BenchError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case configuration
        case connection
        case resources
    }

    private let kind: Kind
    public let description: String

    private init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// The hub could not be reached, refused the upgrade or the token, or refused a join:
    /// `dugnad bench` exits with status 2 for these.
    public var isConnectionFailure: Bool { kind == .connection }

    static func configuration(_ message: String) -> BenchError { BenchError(.configuration, message) }
    static func connection(_ message: String) -> BenchError { BenchError(.connection, message) }
    static func resources(_ message: String) -> BenchError { BenchError(.resources, message) }
}
