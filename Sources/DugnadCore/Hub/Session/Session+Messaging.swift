import DugnadProtocol
import NIOCore

/// Saying something in a channel: `publish`, `typing` and `react`.
extension Session {
    func publish(_ request: PublishRequest, ref: JSONValue?, ticket: WriteTicket) {
        respond(ref, hub.publish(request, by: principal, on: loop, ticket: ticket), ticket: ticket) { writer, result in
            EventEncoding.writePublished(result.message, into: &writer)
        }
    }

    /// At most one `typing` per user and channel per `typingIntervalMillis` goes out,
    /// however many the user's connections send (`TypingGate`); the rest are dropped
    /// quietly (a reply, when asked for, is still `ok`).
    func typing(channel: String, ref: JSONValue?) {
        let principal = self.principal
        let hub = self.hub
        let sent = hub.readableChannel(channel, by: principal, for: .post, on: loop).map { _ in
            guard
                hub.typingGate.allow(
                    userID: principal.userID, channel: channel, now: NIODeadline.now().uptimeNanoseconds)
            else { return }
            hub.bus.publish([
                FanoutEvent(
                    target: .channel(channel, exceptUser: principal.userID),
                    frame: EventEncoding.typingEvent(channel: channel, userID: principal.userID, name: principal.name))
            ])
        }
        respondEmpty(ref, sent)
    }

    func react(messageID: String, emoji: String, remove: Bool, ref: JSONValue?, ticket: WriteTicket) {
        let principal = self.principal
        let hub = self.hub
        let loop = self.loop
        let found = hub.read(on: loop) { store in try store.message(id: messageID) }
        let reacted = found.flatMap { (message: StoredMessage?) -> EventLoopFuture<WriteOutcome> in
            guard let message else { return loop.makeFailedFuture(ProtocolError.notFound("no message '\(messageID)'")) }
            return hub.readableChannel(message.channel, by: principal, for: .post, on: loop).flatMap {
                (_: ChannelRecord) in
                let now = WallClock.nowMillis()
                return hub.write(
                    .react(messageID: messageID, userID: principal.userID, emoji: emoji, remove: remove, at: now), on: loop,
                    ticket: ticket
                ) { outcome, post in
                    guard case .reaction(let reaction) = outcome, reaction.changed else { return }
                    post.events.append(
                        FanoutEvent(
                            target: .channel(reaction.channel, exceptUser: nil),
                            frame: EventEncoding.reactionEvent(reaction, userName: principal.name, remove: remove)))
                }
            }
        }
        respondEmpty(ref, reacted, ticket: ticket)
    }
}
