import DugnadCore
import DugnadProtocol
import NIOCore

extension APIRouter {
    /// Takes one from the caller's budget of `kind` (the same per-user buckets as over
    /// WebSocket), or throws `rate_limited` with when to retry. Keys pass unless
    /// `keysToo`: their rate is the key's business, not a person's.
    func spend(_ kind: UserBudgets.Kind, by principal: Principal, tooMany what: String, keysToo: Bool = false) throws(ProtocolError) {
        guard keysToo || !principal.isBot else { return }
        if let retry = app.hub.budgets.take(kind, for: principal.userID, now: NIODeadline.now().uptimeNanoseconds) {
            throw ProtocolError(.rateLimited, "too many \(what); slow down", retryAfterMs: retry)
        }
    }
}
