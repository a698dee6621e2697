import DugnadProtocol
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Sends a request exactly as written (no URL normalisation, so `/../` reaches the server)
/// and reads the response until the server closes.
enum RawHTTP {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// `tls` speaks TLS first (`serverHostname` for SNI and the certificate's name check).
    static func send(port: Int, _ request: String, tls: NIOSSLContext? = nil, serverHostname: String? = nil) async throws
        -> Response
    {
        let collected = NIOLockedValueBox<[UInt8]>([])
        let done = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: serverHostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(Collector(collected: collected, done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        do {
            try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        } catch {
            // The server may answer and close before it has read the whole request (an
            // oversized head): the write then fails, but what it answered was collected.
            try? await channel.close()
        }
        try await done.futureResult.get()
        let text = String(decoding: collected.withLockedValue { $0 }, as: UTF8.self)
        let (head, body) = text.split(separator: "\r\n\r\n", maxSplits: 1).map(String.init).pair
        let lines = head.split(separator: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return Response(status: status, headers: headers, body: body)
    }

    static func get(
        port: Int, _ path: String, headers: String = "", tls: NIOSSLContext? = nil, serverHostname: String? = nil
    ) async throws -> Response {
        try await send(
            port: port, "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\(headers)\r\n", tls: tls,
            serverHostname: serverHostname)
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let collected: NIOLockedValueBox<[UInt8]>
        let done: EventLoopPromise<Void>

        init(collected: NIOLockedValueBox<[UInt8]>, done: EventLoopPromise<Void>) {
            self.collected = collected
            self.done = done
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            collected.withLockedValue { $0.append(contentsOf: buffer.readableBytesView) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            done.succeed()
        }
    }
}

extension Array where Element == String {
    fileprivate var pair: (String, String) { (first ?? "", count > 1 ? self[1] : "") }
}

extension RawHTTP {
    /// A JSON request with an optional bearer token; the body parsed as JSON when it is.
    static func json(
        port: Int, _ method: String, _ path: String, token: String? = nil, body: String? = nil
    ) async throws -> (status: Int, json: JSONValue, headers: [String: String]) {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        if let body {
            request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            request += "\r\n"
        }
        let response = try await send(port: port, request)
        return (response.status, (try? JSONParser.parse(response.body)) ?? .null, response.headers)
    }
}
