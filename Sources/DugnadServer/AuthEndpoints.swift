import DugnadCore
import DugnadOIDC
import DugnadProtocol
import NIOCore
import NIOHTTP1

/// `/auth/*`: sign-in with the OpenID provider (contract §9 "Sign-in"), as HTTP. The steps
/// themselves are `SignInService`'s; here are the redirects, the cookies and the pages.
///
/// No token ever goes into a URL the hub makes or into the log: the browser gets a
/// session cookie at the callback, and its page asks `/auth/session` (same origin, cookie
/// sent) for the short-lived session token it connects with.
struct AuthEndpoints {
    let app: AppContext

    func respond(to head: HTTPRequestHead, on loop: any EventLoop) -> EventLoopFuture<HTTPResponse> {
        let path = head.path
        if path == "/auth/config", head.method == .GET || head.method == .HEAD {
            return loop.makeSucceededFuture(config(head))
        }
        guard let service = app.signIn else {
            return loop.makeSucceededFuture(.error(.notFound("sign-in with a provider is not configured on this hub")))
        }
        let page = SignInPage(fileReader: app.fileReader, loop: loop)
        let work: @Sendable () async -> HTTPResponse
        switch (head.method, path) {
        case (.GET, "/auth/login"):
            work = { await login(head, service: service, page: page) }
        case (.GET, "/auth/callback"):
            work = { await callback(head, service: service, page: page) }
        case (.POST, "/auth/session"), (.GET, "/auth/session"):
            guard sameOrigin(head) else { return loop.makeSucceededFuture(.error(.forbidden("cross-origin request"))) }
            work = { await session(head, service: service) }
        case (.POST, "/auth/logout"):
            guard sameOrigin(head) else { return loop.makeSucceededFuture(.error(.forbidden("cross-origin request"))) }
            work = { await logout(head, service: service) }
        default:
            return loop.makeSucceededFuture(.error(ProtocolError(.notFound, "no route for \(head.method) \(path)")))
        }
        let promise = loop.makePromise(of: HTTPResponse.self)
        promise.completeWithTask(work)
        return promise.futureResult
    }

    /// Cookies are `Secure` when the hub serves TLS, or when its configured callback URL is
    /// https (a proxy in front terminates TLS).
    private var secure: Bool {
        app.configuration.tls != nil || app.signIn?.configuration.redirectURI?.lowercased().hasPrefix("https://") == true
    }

    /// `GET /auth/config`: whether the sign-in screen offers "Sign in with <name>", and
    /// whether this browser has a live hub session (so that the page asks `/auth/session`
    /// only then, and a page without one sees no refused request).
    private func config(_ head: HTTPRequestHead) -> HTTPResponse {
        .json(.ok) { writer in
            writer.field("oidc", app.signIn != nil)
            if let service = app.signIn {
                writer.field("provider", service.configuration.providerName)
                writer.field("login", "/auth/login")
                let id = Cookies.value(Cookies.session, in: head.headers)
                writer.field("session", id.map { service.sessions.isLive($0, now: WallClock.nowMillis()) } ?? false)
            }
        }
    }

    private func login(_ head: HTTPRequestHead, service: SignInService, page: SignInPage) async -> HTTPResponse {
        switch await service.begin(redirectURI: redirectURI(head), now: WallClock.nowMillis()) {
        case .success(let login):
            var response = HTTPResponse(status: .found, contentType: "text/plain; charset=utf-8", body: [])
            response.headers = [
                ("location", login.location), ("cache-control", "no-store"),
                Cookies.set(
                    Cookies.login, login.state, path: "/auth/callback",
                    maxAgeSeconds: service.configuration.loginTimeoutSeconds, secure: secure),
            ]
            return response
        case .failure(let failure):
            app.logger.warning("sign-in could not start: \(failure.code): \(failure.detail)")
            return await page.failure(failure, head: head, secure: secure)
        }
    }

    private func callback(_ head: HTTPRequestHead, service: SignInService, page: SignInPage) async -> HTTPResponse {
        let result = await service.complete(
            query: head.queryParameters, browserState: Cookies.value(Cookies.login, in: head.headers), now: WallClock.nowMillis())
        switch result {
        case .success(let session):
            // Away from the callback URL (its code is spent) to the client, which asks
            // /auth/session for its token.
            var response = HTTPResponse(status: .seeOther, contentType: "text/plain; charset=utf-8", body: [])
            response.headers = [
                ("location", "/"), ("cache-control", "no-store"),
                Cookies.clear(Cookies.login, path: "/auth/callback", secure: secure),
                Cookies.set(
                    Cookies.session, session.id, path: "/auth", maxAgeSeconds: service.configuration.sessionLifetimeSeconds,
                    secure: secure),
            ]
            return response
        case .failure(let failure):
            app.logger.notice("sign-in refused: \(failure.code): \(failure.detail)")
            return await page.failure(failure, head: head, secure: secure)
        }
    }

    /// `/auth/session`: `{"token","expires_at","user"}` for the session cookie, or 401.
    private func session(_ head: HTTPRequestHead, service: SignInService) async -> HTTPResponse {
        guard let id = Cookies.value(Cookies.session, in: head.headers) else {
            return .error(ProtocolError(.unauthorized, "not signed in"))
        }
        var response: HTTPResponse
        switch await service.sessionToken(for: id, now: WallClock.nowMillis()) {
        case .success(let minted):
            response = .json(.ok) { writer in
                writer.field("token", minted.token)
                writer.field("expires_at", minted.expiresAt)
                writer.key("user")
                writer.beginObject()
                writer.field("id", minted.identity.userID)
                writer.field("name", minted.identity.name)
                writer.key("roles")
                writer.beginArray()
                for role in minted.identity.roles { writer.string(role) }
                writer.endArray()
                writer.endObject()
            }
        case .failure(.noSession):
            response = .error(ProtocolError(.unauthorized, "the sign-in session has ended; sign in again"))
            response.headers.append(Cookies.clear(Cookies.session, path: "/auth", secure: secure))
        case .failure(.providerUnreachable):
            response = .error(
                ProtocolError(
                    .unavailable, "the identity provider has not answered for too long; try again shortly", retryAfterMs: 30_000))
        }
        response.headers.append(("cache-control", "no-store"))
        return response
    }

    private func logout(_ head: HTTPRequestHead, service: SignInService) async -> HTTPResponse {
        let endSession = await Cookies.value(Cookies.session, in: head.headers).asyncMap { await service.end($0) } ?? nil
        var response = HTTPResponse.json(.ok) { writer in
            writer.field("ok", true)
            if let endSession { writer.field("end_session_url", endSession) }
        }
        response.headers = [Cookies.clear(Cookies.session, path: "/auth", secure: secure), ("cache-control", "no-store")]
        return response
    }

    /// The callback URL: the configured one, else this hub as the browser reached it.
    private func redirectURI(_ head: HTTPRequestHead) -> String {
        let host = head.headers.first(name: "host") ?? "\(app.configuration.host):\(app.configuration.port)"
        return (secure ? "https://" : "http://") + host + "/auth/callback"
    }

    /// A browser's request from another site (its `Origin` names another host than the
    /// request's `Host`) may not read a session token nor end a session. The scheme is not
    /// compared: behind a proxy that terminates TLS the page is https and the hub plain.
    /// Requests without `Origin` (not from a page's script) pass.
    private func sameOrigin(_ head: HTTPRequestHead) -> Bool {
        guard let origin = head.headers.first(name: "origin") else { return true }
        guard let host = head.headers.first(name: "host"), let separator = origin.range(of: "://") else { return false }
        return origin[separator.upperBound...].lowercased() == host.lowercased()
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async -> T) async -> T? {
        switch self {
        case .some(let value): return await transform(value)
        case .none: return nil
        }
    }
}
