import NIOConcurrencyHelpers

/// The request-body bytes the server holds across all connections, bounded: a request
/// whose body would take the total past the limit is answered 503 and its connection
/// closed, so that many slow or large bodies together cannot exhaust memory (each is also
/// bounded by `maxHTTPBodyBytes` and must arrive within `httpBodyTimeoutSeconds`).
final class HTTPBodyBudget: Sendable {
    private let limit: Int
    private let held = NIOLockedValueBox(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when that would exceed it.
    func take(_ bytes: Int) -> Bool {
        held.withLockedValue { held in
            guard held + bytes <= limit else { return false }
            held += bytes
            return true
        }
    }

    func give(_ bytes: Int) {
        held.withLockedValue { $0 = max(0, $0 - bytes) }
    }

    var heldBytes: Int { held.withLockedValue { $0 } }
}
