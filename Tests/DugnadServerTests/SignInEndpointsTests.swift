import DugnadCore
import DugnadOIDC
import DugnadServer
import DugnadTestSupport
import Foundation
import Testing

/// `/auth/*` on a real hub, where no provider is needed to see the answer: off without a
/// provider; with one that does not answer, a clear page and nothing signed in; requests
/// from another site refused; cookies `Secure` under TLS. (The whole flow against a real
/// provider is web-client/tests/test_oidc.py.)
@Suite struct SignInEndpointsTests {
    /// An issuer on loopback where nothing listens (port 1: connection refused at once).
    static let deadIssuer = "http://127.0.0.1:1/realms/staff"

    static func withProvider(_ configuration: inout ServerConfiguration) {
        configuration.oidc = OIDCConfiguration(issuer: deadIssuer, clientID: "dugnad", providerName: "Testfirma")
    }

    @Test func withoutAProviderSignInIsOff() async throws {
        try await withHub { hub in
            let config = try await RawHTTP.get(port: hub.port, "/auth/config")
            #expect(config.status == 200 && config.body == #"{"oidc":false}"#)
            #expect(try await RawHTTP.get(port: hub.port, "/auth/login").status == 404)
            #expect(try await RawHTTP.get(port: hub.port, "/auth/callback?state=x&code=y").status == 404)
        }
    }

    @Test func anUnreachableProviderIsAClearPageAndTheHubServesOn() async throws {
        try await withHub(Self.withProvider) { hub in
            let config = try await RawHTTP.get(port: hub.port, "/auth/config")
            #expect(config.body == #"{"oidc":true,"provider":"Testfirma","login":"/auth/login","session":false}"#)

            let login = try await RawHTTP.get(port: hub.port, "/auth/login")
            #expect(login.status == 502)
            #expect(login.headers["content-type"] == "text/html; charset=utf-8")
            #expect(login.body.contains(#"data-reason="provider_unreachable""#))
            #expect(login.body.contains("The identity provider is not answering"))
            #expect(login.headers["location"] == nil)
            #expect(!(login.headers["set-cookie"] ?? "").hasPrefix("dugnad_session="))

            let norsk = try await RawHTTP.get(
                port: hub.port, "/auth/login", headers: "Accept-Language: nb-NO,nb;q=0.9,en;q=0.5\r\n")
            #expect(norsk.body.contains(#"<html lang="nb">"#) && norsk.body.contains("Identitetsleverandøren svarer ikke"))

            // People with a token are not affected.
            let client = try await hub.connect("kari")
            #expect(client.welcome["user"]?["id"]?.stringValue == "kari")
            await client.close()
        }
    }

    @Test func aCallbackWithoutItsLoginIsRefusedWithAPage() async throws {
        try await withHub(Self.withProvider) { hub in
            for query in [
                "state=made-up&code=abc", "code=abc", "state=&code=", "error=access_denied", String(repeating: "x", count: 4000),
            ] {
                let answer = try await RawHTTP.get(
                    port: hub.port, "/auth/callback?\(query)", headers: "Cookie: dugnad_login=made-up\r\n")
                #expect(answer.status == 400, "\(query.prefix(40))")
                #expect(answer.body.contains(#"data-reason="bad_state""#))
                #expect(answer.headers["location"] == nil)
            }
        }
    }

    @Test func aSessionIsNeitherMintedWithoutOneNorForAnotherSite() async throws {
        try await withHub(Self.withProvider) { hub in
            let none = try await post(hub.port, "/auth/session")
            #expect(none.status == 401 && none.body.contains(#""code":"unauthorized""#))
            let forged = try await post(hub.port, "/auth/session", headers: "Cookie: dugnad_session=made-up\r\n")
            #expect(forged.status == 401)
            let crossSite = try await post(
                hub.port, "/auth/session", headers: "Origin: https://evil.example\r\nCookie: dugnad_session=x\r\n")
            #expect(crossSite.status == 403)
            let crossSiteLogout = try await post(hub.port, "/auth/logout", headers: "Origin: https://evil.example\r\n")
            #expect(crossSiteLogout.status == 403)
            let logout = try await post(hub.port, "/auth/logout", headers: "Origin: http://127.0.0.1\r\n")
            #expect(logout.status == 200)
            #expect(logout.headers["set-cookie"] == "dugnad_session=; Path=/auth; Max-Age=0; HttpOnly; SameSite=Lax")
            #expect(try await post(hub.port, "/auth/nowhere").status == 404)
        }
    }

    @Test func cookiesAreSecureUnderTLS() async throws {
        let folder = TestHub.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let certificate = try TestCertificate()
        let paths = try certificate.write(to: folder, name: "hub")
        let tls = TLSFiles(certificatePath: paths.certificate, keyPath: paths.key)
        try await withHub({
            Self.withProvider(&$0); $0.tls = tls
        }) { hub in
            let logout = try await RawHTTP.send(
                port: hub.port, "POST /auth/logout HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                tls: try certificate.clientContext(), serverHostname: "localhost")
            #expect(logout.status == 200)
            #expect(logout.headers["set-cookie"] == "dugnad_session=; Path=/auth; Max-Age=0; HttpOnly; SameSite=Lax; Secure")
        }
    }

    @Test func aProviderNeedsTheHubsOwnSecretAndASoundConfiguration() async throws {
        await #expect(throws: ConfigurationError.self) {
            let hub = try await TestHub.start { configuration in
                Self.withProvider(&configuration)
                configuration.tokens.algorithm = .es256
            }
            await hub.stop()
        }
        await #expect(throws: ConfigurationError.self) {
            let hub = try await TestHub.start { configuration in
                configuration.oidc = OIDCConfiguration(issuer: "http://login.example.test", clientID: "dugnad")
            }
            await hub.stop()
        }
    }

    /// Runs `body` on a fresh hub and stops it, also when `body` throws.
    private func withHub(
        _ configure: (inout ServerConfiguration) -> Void = { _ in }, _ body: (TestHub) async throws -> Void
    ) async throws {
        let hub = try await TestHub.start(configure: configure)
        do {
            try await body(hub)
        } catch {
            await hub.stop()
            throw error
        }
        await hub.stop()
    }

    private func post(_ port: Int, _ path: String, headers: String = "") async throws -> RawHTTP.Response {
        try await RawHTTP.send(
            port: port, "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\(headers)\r\n")
    }
}
