import DugnadProtocol
import DugnadTestSupport
import Foundation

/// A WebSocket client speaking the Dugnad protocol to a hub, with what the live tests need:
/// requests matched to replies by `ref`, other frames kept in order, and the server's close.
/// Used by one test task at a time.
final class LiveClient {
    let socket: WebSocketClient
    private var buffered: [JSONValue] = []
    private var nextRef = 1

    private init(socket: WebSocketClient) {
        self.socket = socket
    }

    /// Opens `/ws?token=…` on the hub at `port` (the hub answers after the upgrade: a
    /// welcome, or a close with the reason it refused the credentials).
    static func connect(port: Int, token: String) async throws -> LiveClient {
        LiveClient(socket: try await WebSocketClient.connect(host: "127.0.0.1", port: port, path: "/ws?token=\(token)"))
    }

    /// Sends a request with a fresh `ref` and returns its reply (ok or not).
    func request(_ type: String, _ fields: [(String, JSONValue)] = [], timeout: Duration = .seconds(30)) async throws
        -> JSONValue
    {
        let ref = Int64(nextRef)
        nextRef += 1
        let frame = JSONValue.object(JSONObject([("type", .string(type))] + fields + [("ref", .int(ref))]))
        try await socket.sendText(frame.jsonString())
        return try await next(timeout: timeout) { $0["type"] == .string("reply") && $0["ref"] == .int(ref) }
    }

    /// The next frame matching `predicate`; the others stay buffered in order.
    func next(timeout: Duration = .seconds(30), where predicate: (JSONValue) -> Bool) async throws -> JSONValue {
        if let index = buffered.firstIndex(where: predicate) { return buffered.remove(at: index) }
        let deadline = ContinuousClock.now + timeout
        while true {
            let text: String
            do {
                text = try await socket.receiveText(timeout: max(.zero, deadline - ContinuousClock.now))
            } catch is WebSocketClientTimeout {
                throw DugnadCommand.Missing(
                    "no awaited frame within \(timeout); other frames: \(buffered.map { $0.jsonString() })")
            }
            let value = try JSONParser.parse(text)
            if predicate(value) { return value }
            buffered.append(value)
        }
    }

    /// Waits for the server's close frame, skipping everything before it: (code, reason),
    /// or (nil, …) when the connection ended without one.
    func closed(timeout: Duration = .seconds(30)) async throws -> (code: UInt16?, reason: String) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let event: WebSocketClientEvent
            do {
                event = try await socket.receive(timeout: max(.zero, deadline - ContinuousClock.now))
            } catch is WebSocketClientTimeout {
                throw DugnadCommand.Missing("the server did not close the connection within \(timeout)")
            }
            switch event {
            case .close(let code, let reason): return (code, reason)
            case .disconnected: return (nil, "disconnected without a close frame")
            default: continue
            }
        }
    }

    func close() async {
        await socket.close()
    }
}
