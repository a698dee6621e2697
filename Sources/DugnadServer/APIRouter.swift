import DugnadCore
import DugnadProtocol
import NIOCore
import NIOHTTP1

/// The HTTP API of section 8 for bots and integrations.
struct APIRouter {
    let app: AppContext

    func handle(head: HTTPRequestHead, path: String, body: ByteBuffer?, on loop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        loop.makeSucceededFuture(.error(.notFound("no route for \(head.method) \(path)")))
    }
}
