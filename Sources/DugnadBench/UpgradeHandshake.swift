import Foundation
import NIOCore

/// The client half of the HTTP/1.1 upgrade (RFC 6455 §4.1), written by hand so the bench
/// connection is a single handler on raw bytes. It checks the status only: the bench talks to
/// a hub it was pointed at, so `Sec-WebSocket-Accept` is not verified.
enum UpgradeHandshake {
    /// Largest response head accepted before giving up on the server.
    static let maxResponseHeadBytes = 16 * 1024

    /// The upgrade request, token in `Authorization` (the contract's first choice for bots).
    /// With `deflate`, permessage-deflate is offered as browsers offer it.
    static func request(host: String, port: Int, path: String, token: String, deflate: Bool = false) -> String {
        var generator = SystemRandomNumberGenerator()
        let key = Data((0..<16).map { _ in generator.next() as UInt8 }).base64EncodedString()
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "GET \(path) HTTP/1.1\r\nHost: \(hostPart):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer \(token)\r\n"
            + (deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "") + "\r\n"
    }

    /// What the accumulated response bytes say so far.
    enum Outcome: Equatable {
        case incomplete
        /// 101: the bytes after the head (`headLength` of them precede) are WebSocket frames.
        case switched(headLength: Int)
        case refused(status: Int, head: String)
        case malformed(String)
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        let terminator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = EventScanner.firstIndex(of: terminator, in: bytes, from: 0) else {
            return bytes.count > maxResponseHeadBytes
                ? .malformed("response head over \(maxResponseHeadBytes) bytes") : .incomplete
        }
        let head = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
        let statusLine = head.prefix { $0 != "\r" }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            return .malformed("not an HTTP response: \(statusLine.prefix(80))")
        }
        guard status == 101 else { return .refused(status: status, head: String(head.prefix(500))) }
        return .switched(headLength: end + terminator.count)
    }
}
