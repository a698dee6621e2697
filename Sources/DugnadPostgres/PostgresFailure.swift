import DugnadCore
import PostgresNIO

/// How the store reads an error of PostgresNIO or of the server: which `StoreError` the
/// caller sees, and whether the connection or the whole transaction is worth another try.
enum PostgresFailure {
    /// The SQLSTATE the server reported, nil for a client-side failure.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// The connection is gone (server stopped or restarted, network cut, timeout): the
    /// call failed before or without the server's answer, and a new connection may work.
    static func isConnectionLoss(_ error: any Error) -> Bool {
        if let error = error as? StoreError {
            return error.kind == .unavailable && error.message.hasPrefix(lostConnectionPrefix)
        }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown:
            return true
        case .server:
            // 08: connection exception; 57P01-57P03: admin or crash shutdown, cannot connect now.
            let state = sqlState(error) ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57P")
        default:
            return false
        }
    }

    /// A deadlock between two nodes' transactions, or a serialization failure: the server
    /// rolled our work back, and running the whole transaction again is safe and expected.
    static func isTransient(_ error: any Error) -> Bool {
        let state = sqlState(error)
        return state == "40P01" || state == "40001"
    }

    /// The prefix of messages about a lost connection, so that a mapped error can still be
    /// recognised as one.
    static let lostConnectionPrefix = "could not reach PostgreSQL"

    /// Maps an error to the store's kinds, as the SQLite store does for SQLite's: a
    /// reference to a missing row is `.notFound`, a taken key (or another constraint) is
    /// `.conflict`, and everything else (connection lost, server shutting down, disk full,
    /// read-only server, unexpected data) means storage cannot be trusted now: `.unavailable`.
    static func storeError(_ error: any Error, doing action: String) -> StoreError {
        if let error = error as? StoreError {
            return error
        }
        if isConnectionLoss(error) {
            return StoreError(.unavailable, "\(lostConnectionPrefix) to \(action): \(describe(error))")
        }
        if let error = error as? PostgresDecodingError {
            return StoreError(
                .unavailable, "could not \(action): unexpected value in column '\(error.columnName)' (\(error.code))")
        }
        guard let error = error as? PSQLError else {
            return StoreError(.unavailable, "could not \(action): \(error)")
        }
        let state = sqlState(error) ?? ""
        let message = error.serverInfo?[.message] ?? describe(error)
        switch state {
        case "23503":
            return StoreError(.notFound, "could not \(action): a referenced row does not exist")
        case let state where state.hasPrefix("23"):
            return StoreError(.conflict, "could not \(action): \(message)")
        case "40P01", "40001":
            return StoreError(.unavailable, "could not \(action): conflicting concurrent transaction (\(message))")
        case let state where state.hasPrefix("53"):
            return StoreError(.unavailable, "could not \(action): the server is out of resources (\(message))")
        case "25006":
            return StoreError(.unavailable, "could not \(action): the database is read-only (\(message))")
        default:
            return StoreError(.unavailable, "could not \(action): \(message)")
        }
    }

    /// Like `storeError(_:doing:)`, but always `.unavailable`: for failures that lose a
    /// whole batch or operation, where "nothing was stored" is what the caller must know.
    /// A `StoreError` from below (a failed connect, a timeout) gets the action in front.
    static func unavailable(_ error: any Error, doing action: String) -> StoreError {
        if let error = error as? StoreError {
            return StoreError(.unavailable, "could not \(action): \(error.message)")
        }
        let mapped = storeError(error, doing: action)
        return mapped.kind == .unavailable ? mapped : StoreError(.unavailable, mapped.message)
    }

    /// PSQLError's own description hides the details on purpose (they may hold data);
    /// the server's message and the code are safe to show.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            return message
        }
        if let underlying = error.underlying {
            return "\(error.code) (\(underlying))"
        }
        return "\(error.code)"
    }
}
