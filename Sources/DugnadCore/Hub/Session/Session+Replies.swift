import DugnadProtocol
import NIOCore

/// How every command answers: a `reply` when the client sent a `ref`, an `error` event
/// when it did not and the command failed, nothing when it did not and all went well.
/// The fields of each reply are written by `EventEncoding`.
extension Session {
    /// Sends the reply for `future`: `ok:true` with the fields `encode` writes, or the
    /// error. Without `ref`, success is silent and an error goes out as an `error` event.
    /// A `ticket` (the command's place in `WriteOrder`) is given up when the command ends,
    /// in case it ended without writing.
    func respond<T>(
        _ ref: JSONValue?, _ future: EventLoopFuture<T>, ticket: WriteTicket? = nil,
        encode: @escaping (inout JSONWriter, T) -> Void
    ) {
        future.assumeIsolated().whenComplete { result in
            ticket?.release()
            switch result {
            case .success(let value):
                guard let ref else { return }
                self.output?.send(EventEncoding.okReply(ref: ref) { writer in encode(&writer, value) })
            case .failure(let error):
                self.fail(ref, Hub.protocolError(error))
            }
        }
    }

    /// Like `respond`, for a command whose reply carries no fields.
    func respondEmpty<T>(_ ref: JSONValue?, _ future: EventLoopFuture<T>, ticket: WriteTicket? = nil) {
        respond(ref, future, ticket: ticket) { (_: inout JSONWriter, _: T) in }
    }

    /// `ok:true` at once, for a command that is done without waiting for anything.
    func respondOK(_ ref: JSONValue?) {
        if let ref { output?.send(EventEncoding.okReply(ref: ref)) }
    }

    func fail(_ ref: JSONValue?, _ error: ProtocolError) {
        if let ref {
            output?.send(EventEncoding.errorReply(ref: ref, error: error))
        } else {
            output?.send(EventEncoding.errorEvent(error))
        }
    }
}
