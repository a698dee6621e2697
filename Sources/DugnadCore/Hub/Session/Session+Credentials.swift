import DugnadProtocol
import NIOCore

/// `refresh`: new credentials for the same user on a live connection. The connection is
/// told (`ConnectionOutput.credentialsChanged`) so that it moves the expiry warning and
/// the close at `exp`.
extension Session {
    func refresh(token: String, ref: JSONValue?) {
        let checked = authenticator.authenticate(token, on: loop).flatMapThrowing { result -> Principal in
            switch result {
            case .success(let principal): return principal
            case .failure(.storageUnavailable):
                throw ProtocolError(
                    .unavailable, "storage did not answer while checking the token; try again shortly", retryAfterMs: 1_000)
            case .failure(let failure): throw ProtocolError(.unauthorized, "token refused: \(failure.rawValue)")
            }
        }
        checked.assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                self.fail(ref, Hub.protocolError(error))
            case .success(let next):
                guard next.userID == self.principal.userID, !next.isBot else {
                    self.fail(ref, .forbidden("a refreshed token must name the same user"))
                    return
                }
                self.principal = next
                self.output?.credentialsChanged(next)
                self.recheckSubscriptions()
                guard let ref else { return }
                self.output?.send(
                    EventEncoding.okReply(ref: ref) { writer in EventEncoding.writeRefreshed(self.principal, into: &writer) })
            }
        }
    }

    /// After new credentials: every subscription is checked against them, and one they no
    /// longer reach (a private channel the token's claim dropped, an admin role that is
    /// gone) ends with a `removed` event.
    func recheckSubscriptions() {
        for channel in joined.sorted() {
            hub.readableChannel(channel, by: principal, on: loop).assumeIsolated().whenFailure { error in
                guard Hub.protocolError(error).code == .forbidden else { return }
                self.accessEnded(to: channel, reason: Hub.accessEnded)
            }
        }
    }
}
