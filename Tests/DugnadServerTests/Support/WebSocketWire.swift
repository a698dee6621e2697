import DugnadProtocol
import NIOCore
import NIOEmbedded

/// WebSocket frames as bytes on the wire, for handler tests that feed a channel what a
/// client would send and read what the server wrote.
enum ClientFrame {
    static let text: UInt8 = 0x1
    static let binary: UInt8 = 0x2
    static let continuation: UInt8 = 0x0
    static let close: UInt8 = 0x8
    static let ping: UInt8 = 0x9
    static let pong: UInt8 = 0xA

    /// A client frame: masked (as RFC 6455 requires of clients) unless told otherwise.
    /// `rsv1` marks a permessage-deflate message's first frame.
    static func bytes(opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true, rsv1: Bool = false)
        -> ByteBuffer
    {
        var buffer = ByteBuffer()
        buffer.writeInteger((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode)
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            buffer.writeInteger(maskBit | UInt8(payload.count))
        } else if payload.count <= Int(UInt16.max) {
            buffer.writeInteger(maskBit | 126)
            buffer.writeInteger(UInt16(payload.count))
        } else {
            buffer.writeInteger(maskBit | 127)
            buffer.writeInteger(UInt64(payload.count))
        }
        guard masked else {
            buffer.writeBytes(payload)
            return buffer
        }
        let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        buffer.writeBytes(key)
        buffer.writeBytes(payload.enumerated().map { $0.element ^ key[$0.offset % 4] })
        return buffer
    }

    static func text(_ text: String, fin: Bool = true) -> ByteBuffer {
        bytes(opcode: Self.text, Array(text.utf8), fin: fin)
    }

    static func close(code: UInt16? = nil, reason: String = "") -> ByteBuffer {
        let payload = code.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] + Array(reason.utf8) } ?? []
        return bytes(opcode: Self.close, payload)
    }
}

/// A frame the server wrote (unmasked, as servers send them).
struct ServerFrame: Equatable, CustomStringConvertible {
    var fin: Bool
    var opcode: UInt8
    var payload: [UInt8]
    /// Set on a permessage-deflate message's first frame: `payload` is compressed.
    var rsv1 = false

    var isClose: Bool { opcode == 0x8 }
    var isPing: Bool { opcode == 0x9 }
    var isPong: Bool { opcode == 0xA }

    /// The close code and reason of a close frame.
    var close: (code: UInt16?, reason: String)? {
        guard isClose else { return nil }
        guard payload.count >= 2 else { return (nil, "") }
        return (UInt16(payload[0]) << 8 | UInt16(payload[1]), String(decoding: payload.dropFirst(2), as: UTF8.self))
    }

    /// The JSON of a text frame.
    var json: JSONValue? {
        guard opcode == 0x1 else { return nil }
        return try? JSONParser.parse(payload)
    }

    var description: String {
        if let close { return "close(\(close.code.map(String.init) ?? "none"), \"\(close.reason)\")" }
        if opcode == 0x1 { return "text(\(String(decoding: payload, as: UTF8.self)))" }
        return "frame(opcode \(opcode), \(payload.count) bytes)"
    }

    /// The frames `buffer` holds back to back; throws on an incomplete or masked one.
    static func parse(_ buffer: ByteBuffer) throws -> [ServerFrame] {
        var buffer = buffer
        var frames: [ServerFrame] = []
        while buffer.readableBytes > 0 {
            guard let first = buffer.readInteger(as: UInt8.self), let second = buffer.readInteger(as: UInt8.self) else {
                throw TestFailure("a truncated frame header")
            }
            guard second & 0x80 == 0 else { throw TestFailure("the server masked a frame") }
            var length = Int(second & 0x7F)
            if length == 126 {
                guard let extended = buffer.readInteger(as: UInt16.self) else { throw TestFailure("a truncated length") }
                length = Int(extended)
            } else if length == 127 {
                guard let extended = buffer.readInteger(as: UInt64.self) else { throw TestFailure("a truncated length") }
                length = Int(extended)
            }
            guard let payload = buffer.readBytes(length: length) else { throw TestFailure("a truncated payload") }
            frames.append(ServerFrame(fin: first & 0x80 != 0, opcode: first & 0x0F, payload: payload, rsv1: first & 0x40 != 0))
        }
        return frames
    }
}

extension EmbeddedChannel {
    /// Every frame written to the socket so far, in order (and taken out of the channel).
    func serverFrames() throws -> [ServerFrame] {
        var frames: [ServerFrame] = []
        while let buffer = try readOutbound(as: ByteBuffer.self) {
            frames += try ServerFrame.parse(buffer)
        }
        return frames
    }
}

/// Reads the frames a `NIOAsyncTestingChannel` writes, one at a time, waiting for the next
/// with a generous bound (the hub answers from a thread pool and a task, on its own time).
final class ServerFrameReader {
    private let channel: NIOAsyncTestingChannel
    private var pending: [ServerFrame] = []

    init(_ channel: NIOAsyncTestingChannel) {
        self.channel = channel
    }

    /// The next frame that satisfies `predicate` (frames before it are skipped).
    func next(
        within timeout: Duration = .seconds(120), where predicate: (ServerFrame) -> Bool = { _ in true }
    ) async throws -> ServerFrame {
        let deadline = ContinuousClock.now + timeout
        while true {
            while !pending.isEmpty {
                let frame = pending.removeFirst()
                if predicate(frame) { return frame }
            }
            if let buffer = try await channel.readOutbound(as: ByteBuffer.self) {
                pending += try ServerFrame.parse(buffer)
                continue
            }
            guard ContinuousClock.now < deadline else { throw TestFailure("no such frame within \(timeout)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The next text frame whose JSON satisfies `predicate`.
    func nextJSON(within timeout: Duration = .seconds(120), where predicate: (JSONValue) -> Bool) async throws -> JSONValue {
        let frame = try await next(within: timeout) { $0.json.map(predicate) ?? false }
        return frame.json ?? .null
    }

    /// Whatever the channel has written and nobody read yet, without waiting.
    func drain() async throws -> [ServerFrame] {
        while let buffer = try await channel.readOutbound(as: ByteBuffer.self) {
            pending += try ServerFrame.parse(buffer)
        }
        defer { pending.removeAll() }
        return pending
    }
}
