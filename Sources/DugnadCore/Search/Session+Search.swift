import DugnadProtocol
import NIOCore

/// `search`: the rules are the hub's (`Hub+Search.swift`), shared with the HTTP API.
extension Session {
    func search(_ request: SearchRequest, ref: JSONValue?) {
        respond(ref, hub.search(request, by: principal, on: loop)) { writer, result in
            EventEncoding.writeSearchResults(result.hits, hasMore: result.hasMore, into: &writer)
        }
    }
}
