import DugnadCore
import DugnadProtocol
import NIOHTTP1

/// A complete HTTP response.
struct HTTPResponse: Sendable {
    var status: HTTPResponseStatus
    var contentType: String
    var body: [UInt8]
    var headers: [(String, String)] = []

    static func text(_ status: HTTPResponseStatus, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    static func json(_ status: HTTPResponseStatus, _ write: (inout JSONWriter) -> Void) -> HTTPResponse {
        var writer = JSONWriter()
        writer.beginObject()
        write(&writer)
        writer.endObject()
        return HTTPResponse(status: status, contentType: "application/json", body: writer.bytes)
    }

    /// `{"error":{"code":..,"message":..}}` with the matching status (and `Retry-After` for 429).
    static func error(_ error: ProtocolError) -> HTTPResponse {
        var response = json(HTTPResponseStatus(statusCode: error.code.httpStatus)) { writer in
            EventEncoding.writeError(error, into: &writer)
        }
        if let retry = error.retryAfterMs {
            response.headers.append(("retry-after", String(max(1, (retry + 999) / 1000))))
        }
        return response
    }
}

extension HTTPResponse {
    /// A response without a body (204 No Content).
    static func empty(_ status: HTTPResponseStatus) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: [])
    }
}

/// A request refused before it was handled, as the error body it is answered with.
struct HTTPError: Error, Sendable {
    let error: ProtocolError

    init(_ error: ProtocolError) {
        self.error = error
    }

    var response: HTTPResponse { .error(error) }
}
