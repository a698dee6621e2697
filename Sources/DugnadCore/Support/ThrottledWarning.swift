import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A warning that may fire thousands of times a second under overload (a full writer
/// refusing writes): logged the first time, then at most once per `interval` with how many
/// were left unlogged since, so the log says what happened without drowning in it.
final class ThrottledWarning: Sendable {
    private struct State {
        var lastLogged: NIODeadline?
        var suppressed = 0
    }

    private let message: String
    private let interval: TimeAmount
    private let state = NIOLockedValueBox(State())

    init(_ message: String, interval: TimeAmount = .seconds(5)) {
        self.message = message
        self.interval = interval
    }

    /// Counts one occurrence (`detail` says which) and logs it if the interval has passed.
    func note(_ detail: String, logger: Logger, now: NIODeadline = .now()) {
        let suppressed: Int? = state.withLockedValue { state in
            if let last = state.lastLogged, now - last < interval {
                state.suppressed += 1
                return nil
            }
            defer { state.suppressed = 0 }
            state.lastLogged = now
            return state.suppressed
        }
        guard let suppressed else { return }
        logger.warning(
            "\(message)", metadata: ["last": "\(detail)", "since_last_warning": "\(suppressed)"])
    }
}
