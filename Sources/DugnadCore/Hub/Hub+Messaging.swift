import DugnadProtocol
import NIOCore

/// Publishing and reading messages: the operations the WebSocket session and the HTTP API share.
extension Hub {
    /// `too_large` for an event that would be `bytes` on the wire, more than one frame
    /// takes (every recipient gets it as one frame); nil when it fits.
    func frameRefusal(for what: String, bytes: Int) -> ProtocolError? {
        let limit = configuration.limits.maxFrameBytes
        guard bytes > limit else { return nil }
        return ProtocolError(.tooLarge, "the \(what) would be \(bytes) bytes on the wire, more than max_frame_bytes (\(limit))")
    }

    /// `rate_limited` while fan-out on this node is behind (`HubConfiguration.fanoutMaxLagMillis`,
    /// `fanoutMaxBacklogDeliveries`): what waits in a loop's mailbox, in time and in
    /// deliveries, these counting the publishes accepted and still in the writer. How long
    /// the writer's queue waits is not counted: that is the writer's to bound (`maxPending`),
    /// and counting it refused a burst of publishes whenever PostgreSQL was slow.
    func fanoutBackPressure() -> ProtocolError? {
        guard
            let refusal = Self.backPressure(
                for: local.backlog(), maxLagMillis: configuration.fanoutMaxLagMillis,
                maxBytes: configuration.fanoutMaxBacklogBytes, maxDeliveries: configuration.fanoutMaxBacklogDeliveries)
        else { return nil }
        metrics.publishesSlowed.increment()
        return refusal
    }

    /// The refusal for a publish while `backlog` is over a bound: the publisher is asked to
    /// wait about as long as the oldest queued event has (50 ms to 5 s). Nil when within
    /// bounds, or when `maxLagMillis` is 0 (off). `maxDeliveries` 0: no bound on deliveries.
    public static func backPressure(
        for backlog: LocalFanout.Backlog, maxLagMillis: Int64, maxBytes: Int, maxDeliveries: Int = 0
    ) -> ProtocolError? {
        let tooManyDeliveries = maxDeliveries > 0 && backlog.deliveries > maxDeliveries
        guard maxLagMillis > 0, backlog.waitedMillis > maxLagMillis || backlog.bytes > maxBytes || tooManyDeliveries
        else { return nil }
        return ProtocolError(
            .rateLimited, "delivery is behind: try again shortly",
            retryAfterMs: Int(max(50, min(5_000, backlog.waitedMillis))))
    }

    /// `too_large` for a message whose `message` or `mention` event would not fit one
    /// frame as every recipient gets it: a 16 KiB body of control characters is six times
    /// that once escaped in JSON. Encoded only when it could be too large (escaping at most
    /// sextuples a byte, and the field names, numbers, mentions' framing and envelope take
    /// under 300 bytes beside the text), so the hot path stays one encoding.
    func messageFrameRefusal(_ message: StoredMessage) -> ProtocolError? {
        let fields = [message.body, message.fromName, message.fromID, message.id, message.channel, message.channel]
        let text = fields + [message.replyTo, message.clientID].compactMap { $0 } + message.mentions
        let worstCase = 6 * text.reduce(0) { $0 + $1.utf8.count } + (message.metaJSON?.utf8.count ?? 0) + 300
        guard worstCase > configuration.limits.maxFrameBytes else { return nil }
        return frameRefusal(for: "message", bytes: EventEncoding.mentionEvent(message).readableBytes)
    }

    /// The ids a body mentions (`Mentions`), without the author's own, and `@channel` only
    /// from leaders and admins (from anyone else it is just text).
    func mentions(in body: String, by principal: Principal) -> Mentions {
        guard body.utf8.contains(UInt8(ascii: "@")) else { return Mentions() }
        var mentions = Mentions.parse(body)
        mentions.ids.removeAll { $0 == principal.userID }
        if !principal.isLeader && !principal.isAdmin { mentions.channel = false }
        return mentions
    }

    /// Stores a message and, once it is durable, fans it out. A retry with the same
    /// `client_id` returns the first message with `duplicate == true` and sends nothing.
    public func publish(
        _ request: PublishRequest, by principal: Principal, on loop: any EventLoop, ticket: WriteTicket? = nil
    ) -> EventLoopFuture<(message: StoredMessage, duplicate: Bool)>
    {
        let started = NIODeadline.now()
        metrics.messagesIn.increment()
        if principal.isBot && !principal.hasScope("publish") && !principal.isAdmin {
            return loop.makeFailedFuture(ProtocolError.forbidden("this key lacks the 'publish' scope"))
        }
        if let behind = fanoutBackPressure() {
            return loop.makeFailedFuture(behind)
        }
        let expected = local.expectPublish(to: request.channel)
        let local = self.local
        return readableChannel(request.channel, by: principal, for: .post, on: loop).flatMap { [self] record in
            do {
                try checkPost(record, by: principal)
            } catch {
                return loop.makeFailedFuture(error)
            }
            let now = WallClock.nowMillis()
            let mentions = mentions(in: request.body, by: principal)
            let message = NewMessage(
                id: Identifiers.messageID(now: now), channel: record.name, fromID: principal.userID,
                fromName: principal.name, body: request.body, metaJSON: request.metaJSON, replyTo: request.replyTo,
                clientID: request.clientID, ts: now, mentionCandidates: mentions.ids, mentionsChannel: mentions.channel)
            if let tooLarge = messageFrameRefusal(message.stored(seq: Int64.max)) {
                return loop.makeFailedFuture(tooLarge)
            }
            return write(.publish(message), on: loop, ticket: ticket) { [self] outcome, post in
                guard case .message(let stored, duplicate: false) = outcome else { return }
                noteDurable(stored)
                metrics.publishDurableLatency.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
                post.events.append(.message(stored))
                post.events.append(contentsOf: FanoutEvent.mentions(stored))
            }.flatMapThrowing { outcome in
                guard case .message(let stored, let duplicate) = outcome else {
                    throw ProtocolError(.internal, "unexpected store outcome")
                }
                return (stored, duplicate)
            }
        }.always { _ in local.settle(expected) }
    }

    /// One page of a channel's history, ascending seq.
    public func history(channel: String, page: HistoryRequest, by principal: Principal, on loop: any EventLoop)
        -> EventLoopFuture<(messages: [StoredMessage], hasMore: Bool)>
    {
        readableChannel(channel, by: principal, on: loop).flatMap { [self] _ in
            let storePage: HistoryPage
            if let before = page.before {
                storePage = .before(seq: before, limit: page.limit)
            } else if let after = page.after {
                storePage = .after(seq: after, limit: page.limit)
            } else {
                storePage = .latest(limit: page.limit)
            }
            let maxBytes = configuration.maxReplyBytes
            let keep: ReplyBound.Keep = page.after != nil ? .oldest : .newest
            return read(on: loop) { store in
                let read = try store.messages(channel: channel, page: storePage)
                let fitted = ReplyBound.fit(read.messages, keep: keep, maxBytes: maxBytes)
                return (fitted.messages, read.hasMore || fitted.trimmed)
            }
        }
    }
}

extension FanoutEvent {
    /// The `message` event of a stored message, for every subscriber of its channel, with
    /// its position (a bus between nodes orders and de-duplicates by it).
    public static func message(_ stored: StoredMessage) -> FanoutEvent {
        FanoutEvent(
            target: .channel(stored.channel, exceptUser: nil), frame: EventEncoding.messageEvent(stored), isMessage: true,
            position: MessagePosition(channel: stored.channel, seq: stored.seq))
    }
}
