import NIOCore

/// First in every connection's pipeline (after TLS, when the port speaks it), it decides whether a connection is admitted: it
/// enforces the per-address limit (`AddressLimiter`), and closes a connection whose first
/// request head is not complete within the header timeout (slowloris: headers dribbled
/// byte by byte). Removes itself once the head has arrived; the address slot is then
/// released when the channel closes. Confined to its channel's event loop.
final class ConnectionAdmissionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limiter: AddressLimiter
    private let headerTimeout: TimeAmount
    private var address: String?
    private var timer: Scheduled<Void>?
    private var carry: [UInt8] = []
    /// Set once the head is complete (the handler is then on its way out of the pipeline).
    private var headComplete = false

    init(limiter: AddressLimiter, headerTimeout: TimeAmount) {
        self.limiter = limiter
        self.headerTimeout = headerTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        // `remoteAddress` can be nil (e.g. the peer already left): count it under "unknown".
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard limiter.acquire(address) else {
            let refusal = "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: refusal))).whenComplete { _ in
                channel.close(promise: nil)
            }
            // Behind TLS the answer waits for a handshake the client may never make: the
            // header timeout bounds a refused connection too.
            timer = context.eventLoop.scheduleTask(in: headerTimeout) { channel.close(promise: nil) }
            return
        }
        self.address = address
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: headerTimeout) { channel.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if headComplete { return context.fireChannelRead(data) }
        guard let address else { return }
        // Look for the blank line that ends the head; the last three bytes of the previous
        // read are kept because the terminator may straddle two reads.
        let window = carry + Array(unwrapInboundIn(data).readableBytesView)
        guard Self.containsHeadEnd(window) else {
            carry = Array(window.suffix(3))
            return context.fireChannelRead(data)
        }
        // The head is complete: from here on this handler would only pass reads along, so
        // it leaves the pipeline (one handler less on every read of a long-lived WebSocket,
        // and about 170 bytes less per idle connection) and the slot is given back when
        // the channel closes.
        headComplete = true
        timer?.cancel()
        timer = nil
        carry = []
        self.address = nil
        let limiter = self.limiter
        context.channel.closeFuture.whenComplete { _ in limiter.release(address) }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    static func containsHeadEnd(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 4 else { return false }
        for start in 0...(bytes.count - 4)
        where bytes[start] == 13 && bytes[start + 1] == 10 && bytes[start + 2] == 13 && bytes[start + 3] == 10 {
            return true
        }
        return false
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if let address {
            limiter.release(address)
            self.address = nil
        }
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension ConnectionAdmissionHandler: Sendable {}
