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

    /// A request that passed authentication and routing on its head: what remains is to
    /// read its body (if its route takes one) and handle it.
    struct Admitted: Sendable {
        var head: HTTPRequestHead
        var path: String
        var route: APIRoute
        var principal: Principal
    }

    /// Authenticates and routes a request from its head alone, so that a caller without
    /// valid credentials, or a request that goes nowhere, is answered before a byte of
    /// its body is held (issue: 3,000 unauthenticated 1 MiB bodies once took 3 GiB).
    /// Succeeds with the admitted request, or fails with the response to send.
    func admit(head: HTTPRequestHead, path: String, on loop: any EventLoop) -> EventLoopFuture<Result<Admitted, HTTPError>> {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map {
            String($0).removingPercentEncoding ?? String($0)
        }
        guard let route = APIRoute(method: head.method, segments: segments) else {
            return loop.makeSucceededFuture(.failure(HTTPError(.notFound("no route for \(head.method) \(path)"))))
        }
        do {
            try route.checkPathParts()
        } catch {
            return loop.makeSucceededFuture(.failure(HTTPError(error)))
        }
        guard let token = head.bearerToken else {
            return loop.makeSucceededFuture(
                .failure(HTTPError(ProtocolError(.unauthorized, "missing 'Authorization: Bearer' header"))))
        }
        let logger = app.logger
        return app.authenticator.authenticate(token, on: loop).map { result in
            switch result {
            case .failure(.storageUnavailable):
                return .failure(
                    HTTPError(
                        ProtocolError(
                            .unavailable, "storage did not answer while checking the credentials; try again shortly",
                            retryAfterMs: 1_000)))
            case .failure(.banned):
                return .failure(HTTPError(.forbidden("this user is banned")))
            case .failure(let failure):
                // The reason and the route, never the credential itself.
                logger.info(
                    "http credentials refused",
                    metadata: ["reason": "\(failure.rawValue)", "method": "\(head.method)", "path": "\(path)"])
                return .failure(HTTPError(ProtocolError(.unauthorized, "credentials refused: \(failure.rawValue)")))
            case .success(let principal):
                if let retry = takeToken(for: principal) {
                    return .failure(
                        HTTPError(ProtocolError(.rateLimited, "too many requests for this key", retryAfterMs: retry)))
                }
                if head.method == .GET, principal.isBot, !principal.hasScope("read"), !principal.isAdmin {
                    return .failure(HTTPError(.forbidden("this key lacks the 'read' scope")))
                }
                if route.adminOnly, !principal.isAdmin {
                    return .failure(HTTPError(.forbidden("only admins may do this")))
                }
                return .success(Admitted(head: head, path: path, route: route, principal: principal))
            }
        }
    }

    /// Handles an admitted request with its body (nil when its route takes none).
    func handle(_ request: Admitted, body: ByteBuffer?, on loop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        let principal = request.principal
        let query = request.head.queryParameters
        let hub = app.hub
        switch request.route {
        case .postMessage(let name):
            return decode(body, as: "publish", adding: [("channel", .string(name))], on: loop) { command in
                guard case .publish(let request) = command else { throw ProtocolError.badRequest("not a publish") }
                try spend(.publish, by: principal, tooMany: "publishes")
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
        case .patchMessage(let id):
            return editMessage(id, body, by: principal, on: loop)
        case .deleteMessage(let id):
            return deleteMessage(id, by: principal, on: loop)
        case .getPresence(let name):
            return hub.readableChannel(name, by: principal, on: loop).map { _ in
                .json(.ok) { writer in EventEncoding.writePresence(hub.presence(channel: name), into: &writer) }
            }
        case .getChannels:
            return listedChannels(for: principal, query: query, on: loop)
        case .putChannel(let name):
            return describeChannel(name, body, by: principal, on: loop)
        case .postChannel:
            return createChannel(body, by: principal, on: loop)
        case .postAnnouncement:
            return decode(body, as: "announce", on: loop) { command in
                guard case .announce(let request) = command else { throw ProtocolError.badRequest("not an announcement") }
                try spend(.announce, by: principal, tooMany: "announcements")
                return hub.announce(request, by: principal, on: loop).map { result in
                    .json(result.duplicate ? .ok : .created) { writer in
                        EventEncoding.writeAnnounced(result.announcement, into: &writer)
                    }
                }
            }
        case .getAnnouncements:
            var fields: [(String, JSONValue)] = []
            if let author = query["author"] { fields.append(("author", .string(author))) }
            if let received = query["received"] { fields.append(("received", .bool(received == "true"))) }
            if let before = query["before"] { fields.append(("before", .string(before))) }
            if let limit = query["limit"] { fields.append(("limit", Int64(limit).map(JSONValue.int) ?? .string(limit))) }
            return decodeFields(fields, as: "announcements", on: loop) { command in
                guard case .announcements(let request) = command else { throw ProtocolError.badRequest("not a listing") }
                return hub.announcements(request, by: principal, on: loop).map { page in
                    .json(.ok) { writer in EventEncoding.writeAnnouncementPage(page, into: &writer) }
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
        case .getReceipts(let id):
            return receipts(of: id, query: query, by: principal, on: loop)
        case .putGoals:
            return putGoals(body, by: principal, on: loop)
        case .getGoals:
            return getGoals(by: principal, on: loop)
        case .getSearch:
            return search(query, by: principal, on: loop)
        case .putMember(let channel, let user):
            return run(on: loop) { try await hub.addMember(user, to: channel, by: principal) }.map { created in
                .json(created ? .created : .ok) { writer in
                    writer.field("channel", channel)
                    writer.field("user", user)
                    writer.field("granted", true)
                }
            }
        case .deleteMember(let channel, let user):
            return hub.channel(named: channel, on: loop).flatMap { record in
                guard record != nil else {
                    return loop.makeSucceededFuture(.error(.notFound("no channel '\(channel)'")))
                }
                return run(on: loop) { try await hub.removeMember(user, from: channel, by: principal) }.map { _ in
                    .empty(.noContent)
                }
            }
        case .getMembers(let channel):
            let limit = query["limit"].map { Int($0) ?? -1 } ?? Limits.defaultMembersLimit
            guard (1...Limits.maxMembersLimit).contains(limit) else {
                return loop.makeSucceededFuture(.error(.badRequest("'limit' must be 1 to \(Limits.maxMembersLimit)")))
            }
            return hub.members(of: channel, after: query["after"], limit: limit, by: principal, on: loop).map { page in
                .json(.ok) { writer in
                    EventEncoding.writeMemberPage(page.members, hasMore: page.hasMore, isOnline: hub.isOnline, into: &writer)
                }
            }
        case .postBan(let user):
            let reason: String?
            do {
                reason = try Self.banReason(body)
            } catch {
                return loop.makeSucceededFuture(.error(Hub.protocolError(error)))
            }
            return run(on: loop) { try await hub.ban(user, reason: reason, by: principal) }.map { ban in
                .json(.ok) { writer in EventEncoding.writeBan(ban, into: &writer) }
            }
        case .deleteBan(let user):
            return run(on: loop) { try await hub.unban(user, by: principal) }.map { _ in .empty(.noContent) }
        case .getAudit:
            let limit = query["limit"].map { Int($0) ?? -1 } ?? 100
            let before = query["before"].flatMap { Int64($0) }
            guard (1...500).contains(limit), query["before"] == nil || before != nil else {
                return loop.makeSucceededFuture(
                    .error(.badRequest("'limit' must be 1 to 500 and 'before' an entry's seq")))
            }
            return hub.auditPage(before: before, limit: limit, by: principal, on: loop).map { page in
                .json(.ok) { writer in EventEncoding.writeAuditPage(page.entries, hasMore: page.hasMore, into: &writer) }
            }
        }
    }

    /// An `async` hub call as a future on `loop`.
    private func run<T: Sendable>(on loop: any EventLoop, _ body: @escaping @Sendable () async throws -> T)
        -> EventLoopFuture<T>
    {
        let promise = loop.makePromise(of: T.self)
        promise.completeWithTask(body)
        return promise.futureResult
    }

    /// `{"reason": "..."}` (optional, at most 500 characters, no U+0000), or no body.
    static func banReason(_ body: ByteBuffer?) throws -> String? {
        guard let body, body.readableBytes > 0 else { return nil }
        let object = try jsonObject(body)
        switch object["reason"] {
        case nil, .null?: return nil
        case .string(let text)? where text.count <= 500 && !text.utf8.contains(0): return text
        default: throw ProtocolError.badRequest("'reason' must be a string of at most 500 characters")
        }
    }

    // MARK: - Endpoints that are HTTP-only

    /// Channels the caller may see, a page at a time (`after`, `limit` ≤ 500, default
    /// 500, so that a client of before paging, which reads only the first page, sees every
    /// channel of all but the largest organisations), optionally those whose name or title
    /// holds `query`: admins every one; others the public and announce ones, and the
    /// private ones they are in or their token lists (keys: those they were made for).
    private func listedChannels(for principal: Principal, query: [String: String], on loop: any EventLoop)
        -> EventLoopFuture<HTTPResponse>
    {
        let directoryQuery: DirectoryQuery
        do {
            directoryQuery = try DirectoryQuery.checked(
                query: query["query"], after: query["after"], limit: query["limit"].map { Int64($0) ?? -1 } ?? 500,
                maxLimit: 500)
        } catch {
            return loop.makeSucceededFuture(.error(error))
        }
        return app.hub.channelDirectory(directoryQuery, by: principal, claimsCount: true, on: loop).map { page in
            .json(.ok) { writer in EventEncoding.writeListedChannelPage(page.entries, hasMore: page.hasMore, into: &writer) }
        }
    }

    /// `{"description": "..." | null}`: admins, and the person whose `join` made the channel.
    private func describeChannel(_ name: String, _ body: ByteBuffer?, by principal: Principal, on loop: any EventLoop)
        -> EventLoopFuture<HTTPResponse>
    {
        let description: String?
        do {
            let object = try Self.jsonObject(body)
            guard object["description"] != nil else {
                throw ProtocolError.badRequest("missing field 'description' (null removes it)")
            }
            description = try ChannelDescription.checked(object["description"])
        } catch {
            return loop.makeSucceededFuture(.error(Hub.protocolError(error)))
        }
        let hub = app.hub
        return run(on: loop) { try await hub.describeChannel(name, description: description, by: principal) }.map {
            channel in
            .json(.ok) { writer in EventEncoding.writeDescribedChannel(channel, into: &writer) }
        }
    }

    private func createChannel(_ body: ByteBuffer?, by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<
        HTTPResponse
    > {
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
        guard let kind = ChannelKind(rawValue: kindText), ChannelKind.creatable.contains(kind) else {
            return loop.makeSucceededFuture(.error(.badRequest("'kind' must be public, private or announce")))
        }
        let title = object["title"]?.stringValue ?? name
        guard !title.isEmpty, title.count <= Limits.maxTitleCharacters else {
            return loop.makeSucceededFuture(.error(.badRequest("'title' must be 1 to 200 characters")))
        }
        let description: String?
        do {
            description = try ChannelDescription.checked(object["description"])
        } catch {
            return loop.makeSucceededFuture(.error(error))
        }
        let promise = loop.makePromise(of: ChannelRecord.self)
        let hub = app.hub
        let actor = principal.userID
        promise.completeWithTask {
            try await hub.createChannel(name: name, kind: kind, title: title, description: description, by: actor)
        }
        return promise.futureResult.map { channel in
            .json(.created) { writer in EventEncoding.writeDescribedChannel(channel, into: &writer) }
        }
    }

    private func importUsers(_ body: ByteBuffer?, by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<
        HTTPResponse
    > {
        let users: [UserRecord]
        do {
            users = try UserDirectory.records(from: try Self.jsonObject(body)["users"])
        } catch {
            return loop.makeSucceededFuture(.error(Hub.protocolError(error)))
        }
        let hub = app.hub
        return run(on: loop) { try await hub.importUsers(users, by: principal) }.map { count in
            .json(.ok) { writer in EventEncoding.writeImported(count: count, into: &writer) }
        }
    }

    private func engagement(days daysText: String?, by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<
        HTTPResponse
    > {
        let days = daysText.map { Int($0) ?? -1 } ?? 30
        guard (1...3660).contains(days) else {
            return loop.makeSucceededFuture(.error(.badRequest("'days' must be a whole number from 1 to 3660")))
        }
        return app.hub.engagement(days: days, by: principal, on: loop).map { stats in
            .json(.ok) { writer in EventEncoding.writeEngagement(stats, days: days, into: &writer) }
        }
    }

    // MARK: - Helpers

    /// Decodes a JSON body as the WebSocket command `type`, with extra fields from the path.
    func decode(
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

    func decodeFields(
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
