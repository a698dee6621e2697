import NIOCore

/// The publisher's side of a bench connection: sending on the ``PublishSchedule`` and
/// counting the hub's replies.
extension BenchConnectionHandler {
    /// A reply to one of this publisher's publishes: acknowledged (durable) or refused.
    func handlePublishReply(_ bytes: UnsafeRawBufferPointer) {
        guard let plan = schedule?.plan, let ref = EventScanner.integer(after: EventScanner.refKey, in: bytes) else { return }
        outstanding -= 1
        stats.counters.inFlight -= 1
        if EventScanner.ok(in: bytes) == true {
            stats.counters.noteAcked(
                channel: Self.channelIndex(ref: Int(ref), publisher: spec.index, channels: spec.channels.count))
            if let sentAt = EventScanner.integer(afterLast: EventScanner.metaTimeKey, in: bytes).flatMap(UInt64.init(exactly:)) {
                if sentAt >= stats.window.from {
                    stats.latencies.ack.record(nanoseconds: NIODeadline.now().uptimeNanoseconds &- sentAt)
                    if sentAt < stats.window.until { stats.counters.ackedInWindow += 1 }
                }
            }
        } else {
            stats.counters.rejected += 1
            let code = EventScanner.string(after: EventScanner.codeKey, in: bytes) ?? "unknown"
            stats.counters.rejectedCodes[code, default: 0] += 1
        }
        if plan.ratePerSecond == 0 {
            pump()
        } else if outstanding == 0, schedule?.isFinished(now: NIODeadline.now().uptimeNanoseconds) == true {
            finishPublisher()
        }
    }

    /// Channel of the publisher's message `ref` (refs count from 1): publishers start at
    /// different channels and go round, so every channel gets an even share.
    static func channelIndex(ref: Int, publisher: Int, channels: Int) -> Int {
        (publisher + ref - 1) % max(1, channels)
    }

    /// Sends what the schedule says is due, then looks again at the next tick (open loop) or
    /// on the next acknowledgement (closed loop).
    func pump() {
        guard case .ready = state, var schedule, let context else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        if schedule.isFinished(now: now) {
            if outstanding == 0 { finishPublisher() }
            return
        }
        let count = context.channel.isWritable ? schedule.due(now: now, outstanding: outstanding) : 0
        if count > 0 {
            let inWindow = stats.window.contains(now)
            for _ in 0..<count {
                schedule.noteSent(now: now)
                context.write(wrapOutboundOut(makePublish(ref: schedule.sent, sentAt: now, context: context)), promise: nil)
            }
            context.flush()
            outstanding += count
            stats.counters.inFlight += count
            stats.counters.sent += count
            if inWindow { stats.counters.sentInWindow += count }
        }
        self.schedule = schedule
        if let next = schedule.nextTick(after: now) {
            context.eventLoop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(next)) { self.pump() }
        }
    }

    func finishPublisher() {
        guard !publisherFinished else { return }
        publisherFinished = true
        stats.counters.publishersFinished += 1
        stats.counters.lateSends += schedule?.late ?? 0
    }

    private func makePublish(ref: Int, sentAt: UInt64, context: ChannelHandlerContext) -> ByteBuffer {
        let channel = spec.channels[Self.channelIndex(ref: ref, publisher: spec.index, channels: spec.channels.count)]
        return writer.frame(opcode: WebSocketFrameParser.text, capacity: body.count + 160, allocator: context.channel.allocator) {
            buffer in
            buffer.writeStaticString(#"{"type":"publish","ref":"#)
            buffer.writeString(String(ref))
            buffer.writeStaticString(#","channel":""#)
            buffer.writeString(channel)
            buffer.writeStaticString(#"","client_id":""#)
            buffer.writeString(spec.runID)
            buffer.writeStaticString("-")
            buffer.writeString(String(spec.index))
            buffer.writeStaticString("-")
            buffer.writeString(String(ref))
            buffer.writeStaticString(#"","meta":{"t":"#)
            buffer.writeString(String(sentAt))
            buffer.writeStaticString(#"},"body":""#)
            buffer.writeBytes(body)
            buffer.writeStaticString(#""}"#)
        }
    }
}
