import DugnadOIDC
import Foundation
import NIOCore
import NIOHTTP1

/// The page a refused sign-in is answered with: the web client's `signin-failed.html`
/// (the hub holds no HTML of its own) with the reason filled in, in bokmål or English
/// as the browser prefers. Its `data-reason` is the failure's stable code.
struct SignInPage {
    let fileReader: StaticFiles
    let loop: any EventLoop

    static let template = "/signin-failed.html"

    func failure(_ failure: SignInFailure, head: HTTPRequestHead, secure: Bool) async -> HTTPResponse {
        let language = Self.language(head.headers.first(name: "accept-language"))
        let (title, text) = failure.page(language: language)
        let again = language == "nb" ? "Tilbake til innloggingen" : "Back to sign-in"
        let template = try? await fileReader.read(path: Self.template, on: loop).get()
        var response: HTTPResponse
        if let template {
            var html = String(decoding: template.bytes, as: UTF8.self)
            for (name, value) in [
                ("lang", language), ("title", title), ("text", text), ("reason", failure.code), ("again", again),
            ] {
                html = html.replacingOccurrences(of: "{{\(name)}}", with: Self.escape(value))
            }
            response = HTTPResponse(
                status: HTTPResponseStatus(statusCode: failure.httpStatus), contentType: "text/html; charset=utf-8",
                body: Array(html.utf8))
        } else {
            response = .text(HTTPResponseStatus(statusCode: failure.httpStatus), "\(title)\n\n\(text)\n(\(failure.code))\n")
        }
        response.headers = [("cache-control", "no-store"), Cookies.clear(Cookies.login, path: "/auth/callback", secure: secure)]
        return response
    }

    /// `nb` when the browser puts Norwegian (nb, no, nn) before English, else `en`.
    static func language(_ acceptLanguage: String?) -> String {
        for part in (acceptLanguage ?? "").split(separator: ",") {
            let tag = part.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            if tag.hasPrefix("nb") || tag.hasPrefix("no") || tag.hasPrefix("nn") { return "nb" }
            if tag.hasPrefix("en") { return "en" }
        }
        return "en"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
