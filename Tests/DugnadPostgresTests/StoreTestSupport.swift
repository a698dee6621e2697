import DugnadCore
import DugnadProtocol
import Foundation
import Testing

/// One behaviour check, run against every store by `SQLiteStoreParityTests` and
/// `PostgresStoreBehaviourTests`.
struct Behaviour: Sendable, CustomTestStringConvertible {
    var name: String
    var check: @Sendable (any StoreHarness) throws -> Void

    var testDescription: String { name }
}

func createChannels(_ store: any Store, _ names: String...) throws {
    let results = try store.write(
        names.map { .createChannel(name: $0, kind: .public, title: $0.capitalized, createdAt: 1) })
    for result in results {
        guard case .success(.channel(_, created: true)) = result else {
            throw StoreError(.conflict, "could not create a test channel: \(result)")
        }
    }
}

func addUsers(_ store: any Store, _ ids: String...) throws {
    let results = try store.write(ids.map { .upsertUser(id: $0, name: $0.uppercased(), roles: [], seenAt: 1) })
    for result in results where result.failure != nil {
        throw StoreError(.conflict, "could not add a test user: \(result)")
    }
}

func expectAllSucceed(_ store: any Store, _ ops: [WriteOp]) throws {
    for (index, result) in try store.write(ops).enumerated() {
        if case .failure(let error) = result {
            Issue.record("op \(index) (\(ops[index])) failed: \(error)")
        }
    }
}

func newMessage(
    _ id: String, channel: String, from: String = "u1", body: String = "hi", meta: String? = nil,
    replyTo: String? = nil, clientID: String? = nil, ts: Int64 = 1_764_411_223_123
) -> NewMessage {
    NewMessage(
        id: id, channel: channel, fromID: from, fromName: from.uppercased(), body: body, metaJSON: meta,
        replyTo: replyTo, clientID: clientID, ts: ts)
}

func newAnnouncement(
    _ id: String, from: String, title: String = "Title", audience: Audience = .all, priority: Priority = .normal,
    requireAck: Bool = false, clientID: String? = nil, ts: Int64 = 1_000
) -> NewAnnouncement {
    NewAnnouncement(
        id: id, fromID: from, fromName: from.uppercased(), title: title, body: "Body of \(id)", priority: priority,
        requireAck: requireAck, audience: audience, clientID: clientID, ts: ts)
}

func apiKey(_ id: String, name: String, hash: String, createdAt: Int64) -> APIKeyRecord {
    APIKeyRecord(
        id: id, name: name, hash: hash, scopes: ["publish", "read"], channels: ["ops"], createdAt: createdAt,
        revokedAt: nil)
}

/// `YYYY-MM-DD` of a time in UTC, through Foundation: an independent check of the stores.
func isoDate(_ millis: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.formatOptions = [.withFullDate]
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(millis / 1_000)))
}

extension Result where Success == WriteOutcome, Failure == StoreError {
    var outcome: WriteOutcome? {
        guard case .success(let outcome) = self else { return nil }
        return outcome
    }

    var failure: StoreError? {
        guard case .failure(let error) = self else { return nil }
        return error
    }

    var message: (message: StoredMessage, duplicate: Bool)? {
        guard case .success(.message(let message, let duplicate)) = self else { return nil }
        return (message, duplicate)
    }

    var reaction: ReactionRecord? {
        guard case .success(.reaction(let record)) = self else { return nil }
        return record
    }

    var announced: (record: AnnouncementRecord, audience: [String], duplicate: Bool)? {
        guard case .success(.announcement(let record, let audience, let duplicate)) = self else { return nil }
        return (record, audience, duplicate)
    }

    var receiptChanged: Bool? {
        guard case .success(.receipt(let changed)) = self else { return nil }
        return changed
    }

    var count: Int? {
        guard case .success(.count(let count)) = self else { return nil }
        return count
    }

    var recipients: [String]? {
        guard case .success(.recipients(let users)) = self else { return nil }
        return users
    }

    var resends: [String: [String]]? {
        guard case .success(.resends(let due)) = self else { return nil }
        return due
    }

    var apiKey: APIKeyRecord? {
        guard case .success(.apiKey(let key)) = self else { return nil }
        return key
    }
}
