import DugnadCore
import DugnadProtocol
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP API of section 8 for bots and integrations: JSON in, JSON out, `Authorization:
/// Bearer <API key or JWT>`. Validation is the WebSocket protocol's (`CommandDecoder`), and
/// every operation is the hub's, so both doors behave the same.
struct APIRouter {
    let app: AppContext

    func handle(head: HTTPRequestHead, path: String, body: ByteBuffer?, on loop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        guard let token = head.bearerToken else {
            return loop.makeSucceededFuture(.error(ProtocolError(.unauthorized, "missing 'Authorization: Bearer' header")))
        }
        let logger = app.logger
        return app.authenticator.authenticate(token, on: loop).flatMap { result in
            switch result {
            case .failure(.storageUnavailable):
                return loop.makeSucceededFuture(
                    .error(
                        ProtocolError(
                            .unavailable, "storage did not answer while checking the credentials; try again shortly",
                            retryAfterMs: 1_000)))
            case .failure(let failure):
                // The reason and the route, never the credential itself.
                logger.info(
                    "http credentials refused",
                    metadata: ["reason": "\(failure.rawValue)", "method": "\(head.method)", "path": "\(path)"])
                return loop.makeSucceededFuture(.error(ProtocolError(.unauthorized, "credentials refused: \(failure.rawValue)")))
            case .success(let principal):
                if let retry = takeToken(for: principal) {
                    return loop.makeSucceededFuture(
                        .error(ProtocolError(.rateLimited, "too many requests for this key", retryAfterMs: retry)))
                }
                return route(head: head, path: path, body: body, principal: principal, on: loop)
            }
        }
    }

    private func route(head: HTTPRequestHead, path: String, body: ByteBuffer?, principal: Principal, on loop: any EventLoop)
        -> EventLoopFuture<HTTPResponse>
    {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        let query = head.queryParameters
        if head.method == .GET, principal.isBot, !principal.hasScope("read"), !principal.isAdmin {
            return loop.makeSucceededFuture(.error(.forbidden("this key lacks the 'read' scope")))
        }
        let hub = app.hub
        switch APIRoute(method: head.method, segments: segments) {
        case .postMessage(let name):
            return decode(body, as: "publish", adding: [("channel", .string(name))], on: loop) { command in
                guard case .publish(let request) = command else { throw ProtocolError.badRequest("not a publish") }
                return hub.publish(request, by: principal, on: loop).map { result in
                    .json(result.duplicate ? .ok : .created) { writer in
                        EventEncoding.writePublished(result.message, into: &writer)
                    }
                }
            }
        case .getMessages(let name):
            var fields: [(String, JSONValue)] = [("channel", .string(name))]
            for key in ["before", "after", "limit"] {
                if let value = query[key] { fields.append((key, Int64(value).map(JSONValue.int) ?? .string(value))) }
            }
            return decodeFields(fields, as: "history", on: loop) { command in
                guard case .history(let channel, let page) = command else { throw ProtocolError.badRequest("not a history") }
                return hub.history(channel: channel, page: page, by: principal, on: loop).map { result in
                    .json(.ok) { writer in
                        EventEncoding.writeHistory(result.messages, hasMore: result.hasMore, into: &writer)
                    }
                }
            }
        case .getPresence(let name):
            guard ChannelName.isValid(name) else { return loop.makeSucceededFuture(.error(.badRequest("invalid channel name"))) }
            return hub.readableChannel(name, by: principal, on: loop).map { _ in
                .json(.ok) { writer in EventEncoding.writePresence(hub.presence(channel: name), into: &writer) }
            }
        case .getChannels:
            return visibleChannels(for: principal, on: loop)
        case .postChannel:
            return createChannel(body, by: principal, on: loop)
        case .postAnnouncement:
            return decode(body, as: "announce", on: loop) { command in
                guard case .announce(let request) = command else { throw ProtocolError.badRequest("not an announcement") }
                return hub.announce(request, by: principal, on: loop).map { result in
                    .json(result.duplicate ? .ok : .created) { writer in
                        EventEncoding.writeAnnounced(result.announcement, into: &writer)
                    }
                }
            }
        case .getAnnouncement(let id):
            return hub.announcementStats(id, by: principal, on: loop).map { result in
                .json(.ok) { writer in
                    EventEncoding.writeAnnouncementWithStats(result.announcement, stats: result.stats, into: &writer)
                }
            }
        case .postUsers:
            return importUsers(body, by: principal, on: loop)
        case .getStats:
            return engagement(days: query["days"], by: principal, on: loop)
        case nil:
            return loop.makeSucceededFuture(.error(.notFound("no route for \(head.method) \(path)")))
        }
    }

    // MARK: - Endpoints that are HTTP-only

    private func visibleChannels(for principal: Principal, on loop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        app.hub.read(on: loop) { store -> [ChannelRecord] in
            let all = try store.allChannels()
            if principal.isAdmin { return all }
            let members: Set<String> =
                principal.isBot ? [] : Set(try store.memberships(userID: principal.userID).map(\.channel.name))
            return all.filter { $0.kind != .private || principal.channels.contains($0.name) || members.contains($0.name) }
        }.map { channels in
            .json(.ok) { writer in EventEncoding.writeChannelList(channels, into: &writer) }
        }
    }

    private func createChannel(_ body: ByteBuffer?, by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<
        HTTPResponse
    > {
        guard principal.isAdmin else { return loop.makeSucceededFuture(.error(.forbidden("only admins can create channels"))) }
        let object: JSONObject
        do {
            object = try Self.jsonObject(body)
        } catch {
            return loop.makeSucceededFuture(.error(Hub.protocolError(error)))
        }
        guard case .string(let name)? = object["name"], ChannelName.isValid(name) else {
            return loop.makeSucceededFuture(.error(.badRequest("'name' must match ^[a-z0-9][a-z0-9._-]{0,63}$")))
        }
        let kindText = object["kind"]?.stringValue ?? "public"
        guard let kind = ChannelKind(rawValue: kindText) else {
            return loop.makeSucceededFuture(.error(.badRequest("'kind' must be public, private or announce")))
        }
        let title = object["title"]?.stringValue ?? name
        guard !title.isEmpty, title.count <= Limits.maxTitleCharacters else {
            return loop.makeSucceededFuture(.error(.badRequest("'title' must be 1 to 200 characters")))
        }
        let promise = loop.makePromise(of: ChannelRecord.self)
        let hub = app.hub
        promise.completeWithTask { try await hub.createChannel(name: name, kind: kind, title: title) }
        return promise.futureResult.map { channel in
            .json(.created) { writer in EventEncoding.writeCreatedChannel(channel, into: &writer) }
        }
    }

    private func importUsers(_ body: ByteBuffer?, by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<
        HTTPResponse
    > {
        guard principal.isAdmin else { return loop.makeSucceededFuture(.error(.forbidden("only admins can import users"))) }
        let users: [UserRecord]
        do {
            users = try UserDirectory.records(from: try Self.jsonObject(body)["users"])
        } catch {
            return loop.makeSucceededFuture(.error(Hub.protocolError(error)))
        }
        return app.hub.write(.importUsers(users), on: loop).map { _ in
            .json(.ok) { writer in EventEncoding.writeImported(count: users.count, into: &writer) }
        }
    }

    private func engagement(days daysText: String?, by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<
        HTTPResponse
    > {
        guard principal.isLeader || principal.isAdmin else {
            return loop.makeSucceededFuture(.error(.forbidden("only leaders and admins can see engagement figures")))
        }
        let days = daysText.map { Int($0) ?? -1 } ?? 30
        guard (1...3660).contains(days) else {
            return loop.makeSucceededFuture(.error(.badRequest("'days' must be a whole number from 1 to 3660")))
        }
        return app.hub.read(on: loop) { store in try store.engagement(days: days, now: WallClock.nowMillis()) }.map { stats in
            .json(.ok) { writer in EventEncoding.writeEngagement(stats, days: days, into: &writer) }
        }
    }

    // MARK: - Helpers

    /// Decodes a JSON body as the WebSocket command `type`, with extra fields from the path.
    private func decode(
        _ body: ByteBuffer?, as type: String, adding extra: [(String, JSONValue)] = [], on loop: any EventLoop,
        then: (ClientCommand) throws -> EventLoopFuture<HTTPResponse>
    ) -> EventLoopFuture<HTTPResponse> {
        do {
            let object = try Self.jsonObject(body)
            return decodeFields(object.pairs.filter { $0.0 != "type" } + extra, as: type, on: loop, then: then)
        } catch {
            return loop.makeSucceededFuture(.error(Hub.protocolError(error)))
        }
    }

    private func decodeFields(
        _ fields: [(String, JSONValue)], as type: String, on loop: any EventLoop,
        then: (ClientCommand) throws -> EventLoopFuture<HTTPResponse>
    ) -> EventLoopFuture<HTTPResponse> {
        var object = JSONObject(fields.filter { $0.0 != "ref" })
        object["type"] = .string(type)
        let decoded = CommandDecoder(limits: app.configuration.hub.limits).decode(JSONValue.object(object).jsonBytes())
        do {
            return try then(try decoded.result.get())
        } catch {
            return loop.makeSucceededFuture(.error(Hub.protocolError(error)))
        }
    }

    static func jsonObject(_ body: ByteBuffer?) throws -> JSONObject {
        guard let body, body.readableBytes > 0 else { throw ProtocolError.badRequest("a JSON object body is required") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(body.readableBytesView)
        } catch {
            throw ProtocolError.badRequest("invalid JSON: \(error)")
        }
        guard case .object(let object) = value else { throw ProtocolError.badRequest("the body must be a JSON object") }
        return object
    }

    /// Nil when allowed; otherwise milliseconds until the caller may try again.
    private func takeToken(for principal: Principal) -> Int? {
        let configuration = app.configuration.hub
        let now = NIODeadline.now().uptimeNanoseconds
        return app.apiBuckets.withLockedValue { buckets in
            // Bounded: past 10,000 callers the table starts over (a full bucket is the same
            // as a fresh one, so this only forgives a few callers their recent use).
            if buckets.count >= 10_000 { buckets.removeAll(keepingCapacity: true) }
            var bucket =
                buckets[principal.userID]
                ?? TokenBucket(rate: configuration.apiKeyRate, burst: configuration.apiKeyBurst, now: now)
            let retry = bucket.take(now: now)
            buckets[principal.userID] = bucket
            return retry
        }
    }
}

/// The endpoints of section 8, parsed from the method and the decoded path segments.
enum APIRoute: Equatable {
    case postMessage(channel: String)
    case getMessages(channel: String)
    case getPresence(channel: String)
    case getChannels
    case postChannel
    case postAnnouncement
    case getAnnouncement(id: String)
    case postUsers
    case getStats

    init?(method: HTTPMethod, segments: [String]) {
        guard segments.count >= 3, segments[0] == "api", segments[1] == "v1" else { return nil }
        let rest = Array(segments.dropFirst(2))
        switch (method, rest.count) {
        case (.POST, 3) where rest[0] == "channels" && rest[2] == "messages": self = .postMessage(channel: rest[1])
        case (.GET, 3) where rest[0] == "channels" && rest[2] == "messages": self = .getMessages(channel: rest[1])
        case (.GET, 3) where rest[0] == "channels" && rest[2] == "presence": self = .getPresence(channel: rest[1])
        case (.GET, 1) where rest[0] == "channels": self = .getChannels
        case (.POST, 1) where rest[0] == "channels": self = .postChannel
        case (.POST, 1) where rest[0] == "announcements": self = .postAnnouncement
        case (.GET, 2) where rest[0] == "announcements": self = .getAnnouncement(id: rest[1])
        case (.POST, 1) where rest[0] == "users": self = .postUsers
        case (.GET, 1) where rest[0] == "stats": self = .getStats
        default: return nil
        }
    }
}
