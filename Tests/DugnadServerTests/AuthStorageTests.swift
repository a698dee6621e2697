import DugnadCore
import DugnadProtocol
import DugnadTestSupport
import Foundation
import GRDB
import Testing

/// An API key is checked against storage. When storage fails, the answer says so
/// (HTTP 503, close 1011 `storage_unavailable`) instead of blaming the key: the client
/// should retry the same credential later, not throw it away.
@Suite struct AuthStorageTests {
    @Test func aKeyLookupThatStorageCannotAnswerIsUnavailableNotInvalid() async throws {
        // The storage fault is made on the SQLite file itself (its keys table dropped by
        // another connection), so this test needs the SQLite engine.
        guard !TestHub.onPostgres else { return }
        let hub = try await TestHub.start()
        let (key, record) = APIKeys.make(name: "it-bot", scopes: ["read"], channels: [], now: WallClock.nowMillis())
        _ = try hub.app.hub.store.write([.createAPIKey(record)])
        let before = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels", token: key)
        #expect(before.status == 200)

        let other = try DatabaseQueue(path: hub.dataDirectory + "/dugnad.sqlite")
        try await other.write { db in try db.execute(sql: "DROP TABLE api_keys") }

        let http = try await RawHTTP.json(port: hub.port, "GET", "/api/v1/channels", token: key)
        #expect(http.status == 503)
        #expect(http.json.at("error", "code") == "unavailable")
        #expect(http.headers["retry-after"] != nil)
        let socket = try await hub.rawConnect(headers: [("Authorization", "Bearer \(key)")])
        let closed = try await socket.closed()
        #expect(closed.code == 1011)
        #expect(closed.reason == "storage_unavailable")
        // A JWT needs no storage to be checked: people still get in.
        let person = try await hub.connect("kari")
        #expect(person.welcome.at("user", "id") == "kari")
        await hub.stop()
    }
}
