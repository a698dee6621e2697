import CompressNIO
import NIOCore

/// One bench connection, the only handler in its pipeline: it performs the upgrade, reads
/// frames with ``WebSocketFrameParser``, follows the hub's welcome with its setup commands,
/// and then does its role's work on the hot path without parsing JSON (``EventScanner``).
///
/// Confined to its event loop, like every channel handler; it reports into the loop's
/// ``LoopStats`` and completes `ready` once set up (or fails it with a ``BenchError``).
final class BenchConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    // Not private: the +Publishing extension shares these.
    enum State {
        case upgrading
        case awaitingWelcome
        case settingUp
        case ready
        case closing
        case closed
    }

    private enum SetupStep {
        case join(String)
        case leave(String)
    }

    /// How long a close waits for the server's close frame before cutting the connection.
    static let closeTimeout = TimeAmount.seconds(2)

    let spec: ConnectionSpec
    let stats: LoopStats
    private let ready: EventLoopPromise<Void>
    var state = State.upgrading
    private var readyDone = false
    private var responseHead: ByteBuffer?
    private var partial: ByteBuffer?
    private var fragments: ByteBuffer?
    private var parser = WebSocketFrameParser()
    /// Inflates what the hub sent compressed (permessage-deflate), made on first need.
    private var inflater: ZlibDecompressor?
    private var fragmentsCompressed = false
    var writer = ClientFrameWriter()
    var context: ChannelHandlerContext?

    private var steps: [SetupStep] = []
    private var stepIndex = 0
    private var stepSentAt: UInt64 = 0
    private var tracker: DeliveryTracker?

    var schedule: PublishSchedule?
    var outstanding = 0
    var publisherFinished = false
    let body: [UInt8]
    private var closeTimer: Scheduled<Void>?
    private var churnTimer: Scheduled<Void>?

    init(spec: ConnectionSpec, stats: LoopStats, ready: EventLoopPromise<Void>) {
        self.spec = spec
        self.stats = stats
        self.ready = ready
        if case .publisher = spec.role {
            body = ChatText.make(bytes: spec.bodyBytes)
        } else {
            body = []
        }
        switch spec.role {
        case .publisher:
            steps = spec.channels.map(SetupStep.join) + spec.channels.map(SetupStep.leave)
        case .subscriber, .holder, .churner:
            steps = spec.channels.map(SetupStep.join)
        }
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        let request = UpgradeHandshake.request(
            host: spec.host, port: spec.port, path: spec.path, token: spec.token, deflate: spec.deflate)
        // The hub sets RSV1 only once it agreed, so offering is enough to accept it.
        parser.allowsCompression = spec.deflate
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let previous = state
        state = .closed
        closeTimer?.cancel()
        churnTimer?.cancel()
        switch previous {
        case .ready:
            stats.counters.unexpectedCloses += 1
        case .closing, .closed:
            break
        case .upgrading, .awaitingWelcome, .settingUp:
            failSetup(.connection("the connection closed during the handshake or setup"))
        }
        if schedule != nil {
            stats.counters.inFlight -= outstanding
            outstanding = 0
            finishPublisher()
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failSetup(.connection("connection error: \(error)"))
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let command = event as? BenchCommand else {
            return context.fireUserInboundEventTriggered(event)
        }
        switch command {
        case .startPublishing(let plan):
            guard case .ready = state, schedule == nil else { return }
            schedule = PublishSchedule(plan: plan)
            let loop = context.eventLoop.assumeIsolated()
            loop.scheduleTask(deadline: NIODeadline.uptimeNanoseconds(plan.start)) { self.pump() }
            // In closed loop the acks drive sending; this look at `until` notices the end
            // when no ack is due.
            loop.scheduleTask(deadline: NIODeadline.uptimeNanoseconds(plan.until)) { self.pump() }
        case .close:
            beginClose(context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, schedule?.plan.ratePerSecond == 0 { pump() }
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if case .upgrading = state {
            guard readResponseHead(&buffer, context: context) else { return }
        }
        if var pending = partial {
            partial = nil
            pending.writeBuffer(&buffer)
            readFrames(&pending, context: context)
        } else {
            readFrames(&buffer, context: context)
        }
    }

    /// Collects the 101 response; true once the rest of `buffer` is WebSocket data.
    private func readResponseHead(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) -> Bool {
        var head = responseHead ?? context.channel.allocator.buffer(capacity: 512)
        head.writeBuffer(&buffer)
        let outcome = head.withUnsafeReadableBytes { UpgradeHandshake.parse($0) }
        switch outcome {
        case .incomplete:
            responseHead = head
            return false
        case .switched(let headLength):
            responseHead = nil
            head.moveReaderIndex(forwardBy: headLength)
            buffer = head
            state = .awaitingWelcome
            return true
        case .refused(let status, let text):
            failSetup(.connection("the hub refused the WebSocket upgrade with HTTP \(status): \(text)"))
            context.close(promise: nil)
            return false
        case .malformed(let reason):
            failSetup(.connection("bad upgrade response: \(reason)"))
            context.close(promise: nil)
            return false
        }
    }

    private func readFrames(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        while buffer.readableBytes > 0 {
            if case .closed = state { return }
            let frame: WebSocketFrameParser.Frame?
            do {
                frame = try parser.next(from: &buffer)
            } catch {
                stats.counters.unreadableFrames += 1
                failSetup(.connection("the hub broke the WebSocket framing: \(error)"))
                context.close(promise: nil)
                return
            }
            guard let frame else { break }
            handle(frame, context: context)
        }
        if buffer.readableBytes > 0 {
            var kept = context.channel.allocator.buffer(capacity: max(buffer.readableBytes * 2, 4096))
            kept.writeBuffer(&buffer)
            partial = kept
        }
    }

    private func handle(_ frame: WebSocketFrameParser.Frame, context: ChannelHandlerContext) {
        switch frame.opcode {
        case WebSocketFrameParser.text where frame.fin:
            let payload = frame.compressed ? inflate(frame.payload) : frame.payload
            payload.withUnsafeReadableBytes { handleText($0, context: context) }
        case WebSocketFrameParser.text, WebSocketFrameParser.binary:
            fragmentsCompressed = frame.compressed
            fragments = frame.payload
        case WebSocketFrameParser.continuation:
            guard var collected = fragments else { return }
            var payload = frame.payload
            collected.writeBuffer(&payload)
            if frame.fin {
                fragments = nil
                if fragmentsCompressed { collected = inflate(collected) }
                collected.withUnsafeReadableBytes { handleText($0, context: context) }
            } else {
                fragments = collected
            }
        case WebSocketFrameParser.ping:
            let pong = writer.frame(
                opcode: WebSocketFrameParser.pong, bytes: frame.payload.readableBytesView, allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case WebSocketFrameParser.close:
            handleClose(frame.payload, context: context)
        default:
            break
        }
    }

    /// A compressed message's payload inflated (RFC 7692 §7.2.2: the stripped tail put back).
    /// The hub compresses each message on its own, so one stream per connection, reset after
    /// each message, reads them all. A payload that does not inflate counts as unreadable.
    private func inflate(_ payload: ByteBuffer) -> ByteBuffer {
        var input = payload
        input.writeBytes([0x00, 0x00, 0xFF, 0xFF])
        do {
            let stream = try inflater ?? ZlibDecompressor(algorithm: .deflate)
            inflater = stream
            defer { try? stream.reset() }
            return try input.decompressStream(with: stream, maxSize: parser.maxPayload)
        } catch {
            stats.counters.unreadableFrames += 1
            return ByteBuffer()
        }
    }

    private func handleClose(_ payload: ByteBuffer, context: ChannelHandlerContext) {
        if state == .closing || state == .closed {
            // The hub's answer to our close.
            return context.close(promise: nil)
        }
        let code = payload.getInteger(at: payload.readerIndex, as: UInt16.self) ?? 1005
        stats.counters.closeCodes[Int(code), default: 0] += 1
        if state != .ready {
            let reason = String(decoding: payload.readableBytesView.dropFirst(2), as: UTF8.self)
            failSetup(.connection("the hub closed the connection with \(code) \(reason)"))
        }
        // A close after setup is counted as unexpected in channelInactive.
        echoCloseAndClose(code: code, context: context)
    }

    private func echoCloseAndClose(code: UInt16, context: ChannelHandlerContext) {
        let frame = writer.frame(
            opcode: WebSocketFrameParser.close, bytes: [UInt8(code >> 8), UInt8(code & 0xFF)],
            allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    // MARK: - Text frames

    private func handleText(_ bytes: UnsafeRawBufferPointer, context: ChannelHandlerContext) {
        let kind = EventScanner.kind(of: bytes)
        switch state {
        case .ready:
            switch kind {
            case .message: handleMessage(bytes)
            case .reply: handlePublishReply(bytes)
            case .presenceDiff: stats.counters.presenceDiffs += 1
            case .welcome, .error, .other: break
            }
        case .awaitingWelcome:
            guard kind == .welcome else { return }
            let now = NIODeadline.now().uptimeNanoseconds
            stats.latencies.connect.record(nanoseconds: now &- spec.startedAt)
            if stats.counters.serverVersion == nil {
                stats.counters.serverVersion = EventScanner.string(after: EventScanner.versionKey, in: bytes)
            }
            state = .settingUp
            sendNextStep(context: context)
        case .settingUp:
            guard kind == .reply, EventScanner.integer(after: EventScanner.refKey, in: bytes) == Int64(stepIndex + 1) else {
                return
            }
            guard EventScanner.ok(in: bytes) == true else {
                let code = EventScanner.string(after: EventScanner.codeKey, in: bytes) ?? "unknown"
                failSetup(.connection("the hub refused \(stepDescription) with '\(code)'"))
                beginClose(context: context)
                return
            }
            if case .join = steps[stepIndex] {
                stats.latencies.join.record(nanoseconds: NIODeadline.now().uptimeNanoseconds &- stepSentAt)
                if case .subscriber = spec.role, tracker == nil {
                    tracker = DeliveryTracker(base: EventScanner.integer(after: EventScanner.lastSeqKey, in: bytes) ?? 0)
                }
            }
            stepIndex += 1
            sendNextStep(context: context)
        case .upgrading, .closing, .closed:
            break
        }
    }

    private var stepDescription: String {
        switch steps[stepIndex] {
        case .join(let channel): "join '\(channel)'"
        case .leave(let channel): "leave '\(channel)'"
        }
    }

    private func sendNextStep(context: ChannelHandlerContext) {
        guard stepIndex < steps.count else { return becomeReady(context: context) }
        let text: String
        switch steps[stepIndex] {
        case .join(let channel): text = #"{"type":"join","ref":\#(stepIndex + 1),"channel":"\#(channel)"}"#
        case .leave(let channel): text = #"{"type":"leave","ref":\#(stepIndex + 1),"channel":"\#(channel)"}"#
        }
        stepSentAt = NIODeadline.now().uptimeNanoseconds
        let frame = writer.frame(opcode: WebSocketFrameParser.text, bytes: text.utf8, allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    private func becomeReady(context: ChannelHandlerContext) {
        state = .ready
        stats.counters.connectionsReady += 1
        readyDone = true
        ready.succeed()
        if case .churner(let holdNanos) = spec.role {
            churnTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(holdNanos))) {
                self.beginClose(context: context)
            }
        }
    }

    private func failSetup(_ error: BenchError) {
        guard !readyDone else { return }
        readyDone = true
        ready.fail(error)
    }

    // MARK: - Hot path

    private func handleMessage(_ bytes: UnsafeRawBufferPointer) {
        guard tracker != nil else { return }
        guard let seq = EventScanner.integer(after: EventScanner.seqKey, in: bytes) else {
            stats.counters.unreadableFrames += 1
            return
        }
        switch tracker?.record(seq) {
        case .new?:
            stats.counters.delivered += 1
        case .duplicate?:
            stats.counters.duplicates += 1
            return
        case .stale?, nil:
            stats.counters.stale += 1
            return
        }
        guard let sentAt = EventScanner.integer(afterLast: EventScanner.metaTimeKey, in: bytes).flatMap(UInt64.init(exactly:))
        else { return }
        let latency = NIODeadline.now().uptimeNanoseconds &- sentAt
        stats.recentDelivery.record(nanoseconds: latency)
        if sentAt >= stats.window.from {
            stats.latencies.delivery.record(nanoseconds: latency)
            if sentAt < stats.window.until { stats.counters.deliveredInWindow += 1 }
        }
    }

    // MARK: - Closing

    private func beginClose(context: ChannelHandlerContext) {
        switch state {
        case .closing, .closed:
            return
        case .upgrading, .awaitingWelcome:
            state = .closing
            context.close(promise: nil)
            return
        case .settingUp, .ready:
            state = .closing
        }
        let frame = writer.frame(
            opcode: WebSocketFrameParser.close, bytes: [0x03, 0xE8], allocator: context.channel.allocator)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
        closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.closeTimeout) {
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension BenchConnectionHandler: Sendable {}
