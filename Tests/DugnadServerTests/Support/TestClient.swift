import DugnadTestSupport
import DugnadProtocol
import Foundation

/// A real WebSocket client speaking the Dugnad protocol, with the bookkeeping tests need:
/// requests matched to replies by `ref`, other frames kept in order for `next(type:)`.
///
/// Waiting for something that must come (a reply, an event, a close) is bounded by
/// `eventTimeout`, a generous multiple of what any of it takes: CI runs on a machine that
/// may be far busier than a developer's, and a bound that a busy machine can miss fails a
/// test that was right. Only "nothing else came" checks (`collect(type:for:)`) use short
/// windows: on a slow machine they can only miss a stray frame, never fail a good test.
final class TestClient: @unchecked Sendable {
    // Unchecked: a TestClient is used by one test task at a time; the socket under it is Sendable.
    let socket: WebSocketClient
    var welcome: JSONValue = .null
    private var buffered: [JSONValue] = []
    private var nextRef = 1

    /// How long a test waits for a frame it needs. 30 s: hundreds of times what it takes
    /// on an idle machine, and still a quick failure when the frame never comes.
    static let eventTimeout: Duration = .seconds(30)

    init(_ socket: WebSocketClient) {
        self.socket = socket
    }

    /// Sends a request with a fresh `ref` and returns the reply (ok or not).
    func request(_ type: String, _ fields: [(String, JSONValue)] = [], timeout: Duration = TestClient.eventTimeout) async throws
        -> JSONValue
    {
        let ref = nextRef
        nextRef += 1
        try await send(type, fields + [("ref", .int(Int64(ref)))])
        return try await next(timeout: timeout) { $0["type"] == .string("reply") && $0["ref"] == .int(Int64(ref)) }
    }

    /// Sends a request and expects `ok: true`.
    @discardableResult
    func ok(_ type: String, _ fields: [(String, JSONValue)] = [], timeout: Duration = TestClient.eventTimeout) async throws
        -> JSONValue
    {
        let reply = try await request(type, fields, timeout: timeout)
        guard reply["ok"] == .bool(true) else { throw TestFailure("\(type) failed: \(reply.jsonString())") }
        return reply
    }

    func send(_ type: String, _ fields: [(String, JSONValue)] = []) async throws {
        try await sendJSON(.object(JSONObject([("type", .string(type))] + fields)))
    }

    func sendJSON(_ value: JSONValue) async throws {
        try await socket.sendText(value.jsonString())
    }

    /// The next frame of `type` (skipping and keeping others for later).
    func next(type: String, timeout: Duration = TestClient.eventTimeout) async throws -> JSONValue {
        try await next(timeout: timeout) { $0["type"] == .string(type) }
    }

    /// The next frame matching `predicate`; frames that don't match stay buffered in order.
    func next(timeout: Duration = TestClient.eventTimeout, where predicate: (JSONValue) -> Bool) async throws -> JSONValue {
        if let index = buffered.firstIndex(where: predicate) {
            return buffered.remove(at: index)
        }
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw WebSocketClientTimeout() }
            let text = try await socket.receiveText(timeout: remaining)
            let value = try JSONParser.parse(text)
            if predicate(value) { return value }
            buffered.append(value)
        }
    }

    /// Frames of `type` already buffered or arriving within `window`. For "nothing else
    /// came" checks only: never to wait for something that must arrive (use `next`).
    func collect(type: String, for window: Duration) async -> [JSONValue] {
        var found = buffered.filter { $0["type"] == .string(type) }
        buffered.removeAll { $0["type"] == .string(type) }
        let deadline = ContinuousClock.now + window
        while ContinuousClock.now < deadline {
            guard let text = try? await socket.receiveText(timeout: deadline - ContinuousClock.now),
                let value = try? JSONParser.parse(text)
            else { break }
            if value["type"] == .string(type) { found.append(value) } else { buffered.append(value) }
        }
        return found
    }

    /// Waits for the server's close frame and returns (code, reason).
    func closed(timeout: Duration = TestClient.eventTimeout) async throws -> (code: UInt16?, reason: String) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { throw WebSocketClientTimeout() }
            switch try await socket.receive(timeout: remaining) {
            case .close(let code, let reason): return (code, reason)
            case .disconnected: return (nil, "disconnected without close frame")
            default: continue
            }
        }
    }

    func close() async {
        await socket.close()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension JSONValue {
    /// `value["a"]?["b"]` without the optional chain noise in tests.
    func at(_ keys: String...) -> JSONValue? {
        var current: JSONValue? = self
        for key in keys { current = current?[key] }
        return current
    }
}

extension Array where Element == JSONValue {
    var seqs: [Int64] { compactMap { $0["seq"]?.int64Value } }
}
