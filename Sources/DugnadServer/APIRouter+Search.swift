import DugnadCore
import DugnadProtocol
import NIOCore

extension APIRouter {
    /// `GET /api/v1/search?query=…` with optional `channel`, `from`, `before`, `limit`:
    /// the `search` command for bots and integrations. A key reaches what it reaches with
    /// `read` (the head already refused a key without it); a person's JWT what the person
    /// may read now.
    func search(_ query: [String: String], by principal: Principal, on loop: any EventLoop)
        -> EventLoopFuture<HTTPResponse>
    {
        let request: SearchRequest
        do {
            request = try SearchRequest.checked(
                query: query["query"], channel: query["channel"], from: query["from"],
                before: try Self.integer(query["before"], "before"), limit: try Self.integer(query["limit"], "limit"))
        } catch {
            return loop.makeSucceededFuture(.error(error))
        }
        // The same search budget as on WebSocket, for people and keys alike.
        do {
            try spend(.search, by: principal, tooMany: "searches", keysToo: true)
        } catch {
            return loop.makeSucceededFuture(.error(error))
        }
        return app.hub.search(request, by: principal, on: loop).map { result in
            .json(.ok) { writer in EventEncoding.writeSearchResults(result.hits, hasMore: result.hasMore, into: &writer) }
        }
    }

    /// A whole number from the query string, or nil when absent.
    private static func integer(_ text: String?, _ name: String) throws(ProtocolError) -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text) else { throw .badRequest("'\(name)' must be an integer") }
        return value
    }
}
