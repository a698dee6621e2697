import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Opens a TLS connection, completes the handshake without checking anything, and reports
/// the certificate the server presented (DER): how a test sees which pair a hub serves.
public enum TLSProbe {
    public static func servedCertificate(host: String = "127.0.0.1", port: Int) async throws -> [UInt8] {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        let context = try NIOSSLContext(configuration: configuration)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let handshake = loop.makePromise(of: [UInt8].self)
        let channel = try await ClientBootstrap(group: loop)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(done: handshake))
                }
            }
            .connect(host: host, port: port).get()
        let timeout = loop.scheduleTask(in: .seconds(30)) { handshake.fail(ChannelError.connectTimeout(.seconds(30))) }
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        return try await handshake.futureResult.get()
    }

    private final class HandshakeWatcher: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let done: EventLoopPromise<[UInt8]>

        init(done: EventLoopPromise<[UInt8]>) { self.done = done }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event {
                let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
                if let der = try? handler?.peerCertificate?.toDERBytes() {
                    done.succeed(der)
                } else {
                    done.fail(ChannelError.inappropriateOperationForState)
                }
            }
            context.fireUserInboundEventTriggered(event)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            done.fail(error)
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.fail(ChannelError.eof)
        }
    }
}
