import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import DugnadServer

/// `StaticFiles` on a web root built per test: what is served, and every way of reaching
/// outside the root (`..`, encoded separators, dotfiles, symlinks, NUL) that is refused.
@Suite struct StaticFilesTests {
    // MARK: Path checks

    @Test(arguments: [
        ("/", ""),
        ("/index.html", "index.html"),
        ("/js/app.js?v=3", "js/app.js"),
        ("//js///app.js", "js/app.js"),
        ("/sub/", "sub"),
        ("/my%20page.html", "my page.html"),
        ("/caf%C3%A9.css", "café.css"),
        ("/a..b/c...d", "a..b/c...d"),
    ])
    func safePathIsNormalised(_ raw: String, _ expected: String) {
        #expect(StaticFiles.safeRelativePath(raw) == expected)
    }

    @Test(arguments: [
        "/..", "/../etc/passwd", "/js/../../etc/passwd", "/js/..", "/./index.html",
        "/%2e%2e/etc/passwd", "/%2E%2E/etc/passwd", "/.%2e/etc/passwd", "/%2e./etc/passwd",
        "/..%2fetc%2fpasswd", "/js%2f..%2f..%2fetc%2fpasswd", "/js/%2e%2e%2f%2e%2e%2fetc",
        "/..\\etc\\passwd", "/js%5c..%5c..%5cetc", "/js\\app.js",
    ])
    func traversalIsRefused(_ raw: String) {
        #expect(StaticFiles.safeRelativePath(raw) == nil)
    }

    @Test(arguments: ["/.env", "/.git/config", "/js/.secret", "/%2egit/config", "/.well-known/x"])
    func dotfilesAreRefused(_ raw: String) {
        #expect(StaticFiles.safeRelativePath(raw) == nil)
    }

    @Test(arguments: ["/index.html%00.js", "/%00", "/js/app.js%00"])
    func nulIsRefused(_ raw: String) {
        #expect(StaticFiles.safeRelativePath(raw) == nil)
    }

    @Test func brokenPercentEncodingIsRefused() {
        #expect(StaticFiles.safeRelativePath("/index%zz.html") == nil)
    }

    @Test func percentDecodingHappensOnlyOnce() {
        // `%252e%252e` decodes to the literal name `%2e%2e`, which is not a parent reference.
        #expect(StaticFiles.safeRelativePath("/%252e%252e/etc") == "%2e%2e/etc")
    }

    // MARK: Content types

    @Test(arguments: [
        ("index.html", "text/html; charset=utf-8"),
        ("PAGE.HTML", "text/html; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("mod.mjs", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("data.json", "application/json"),
        ("logo.svg", "image/svg+xml"),
        ("icon.png", "image/png"),
        ("favicon.ico", "image/x-icon"),
        ("font.woff2", "font/woff2"),
        ("archive.tar.gz", "application/octet-stream"),
        ("README", "application/octet-stream"),
    ])
    func contentTypeFollowsTheExtension(_ path: String, _ expected: String) {
        #expect(StaticFiles.contentType(of: "/srv/web/\(path)") == expected)
    }

    // MARK: Reading from a real web root

    /// A temporary folder holding `web/` (the root) and `outside/` (must never be served).
    private final class WebRoot: Sendable {
        let base: URL
        let root: URL
        let outside: URL

        init() throws {
            base = FileManager.default.temporaryDirectory.appendingPathComponent("dugnad-static-\(UUID().uuidString)")
            root = base.appendingPathComponent("web")
            outside = base.appendingPathComponent("outside")
            for directory in [root, outside, root.appendingPathComponent("sub"), root.appendingPathComponent("empty")] {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            }
            try write("web/index.html", "<h1>home</h1>")
            try write("web/app.js", "export const app = 1")
            try write("web/style.css", "body{}")
            try write("web/sub/index.html", "<h1>sub</h1>")
            try write("web/.secret", "root dotfile")
            try write("outside/secret.txt", "outside the root")
            // A sibling whose name starts with the root's: a naive prefix check lets it through.
            try FileManager.default.createDirectory(
                at: base.appendingPathComponent("web-evil"), withIntermediateDirectories: true)
            try write("web-evil/loot.txt", "beside the root")
            try link("web/escape.txt", to: outside.appendingPathComponent("secret.txt").path)
            try link("web/escape-dir", to: outside.path)
            try link("web/sibling.txt", to: base.appendingPathComponent("web-evil/loot.txt").path)
            try link("web/alias.js", to: root.appendingPathComponent("app.js").path)
        }

        deinit {
            try? FileManager.default.removeItem(at: base)
        }

        private func write(_ path: String, _ text: String) throws {
            try Data(text.utf8).write(to: base.appendingPathComponent(path))
        }

        private func link(_ path: String, to destination: String) throws {
            try FileManager.default.createSymbolicLink(
                atPath: base.appendingPathComponent(path).path, withDestinationPath: destination)
        }

        func read(_ path: String, webRoot: String? = nil) async throws -> StaticFiles.File? {
            let files = StaticFiles(webRoot: webRoot ?? root.path, pool: NIOThreadPool.singleton)
            return try await files.read(path: path, on: MultiThreadedEventLoopGroup.singleton.any()).get()
        }
    }

    private func text(_ file: StaticFiles.File?) -> String? {
        file.map { String(decoding: $0.bytes, as: UTF8.self) }
    }

    @Test func normalFileIsServedWithItsContentType() async throws {
        let web = try WebRoot()
        let file = try await web.read("/app.js")
        #expect(text(file) == "export const app = 1")
        #expect(file?.contentType == "text/javascript; charset=utf-8")
        let css = try await web.read("/style.css?v=2")
        #expect(text(css) == "body{}")
        #expect(css?.contentType == "text/css; charset=utf-8")
    }

    @Test func rootServesIndexHTML() async throws {
        let web = try WebRoot()
        let file = try await web.read("/")
        #expect(text(file) == "<h1>home</h1>")
        #expect(file?.contentType == "text/html; charset=utf-8")
    }

    @Test func directoryServesItsIndexHTML() async throws {
        let web = try WebRoot()
        #expect(text(try await web.read("/sub")) == "<h1>sub</h1>")
        #expect(text(try await web.read("/sub/")) == "<h1>sub</h1>")
    }

    @Test func directoryWithoutIndexIsNotFound() async throws {
        let web = try WebRoot()
        #expect(try await web.read("/empty") == nil)
    }

    @Test func missingFileIsNotFound() async throws {
        let web = try WebRoot()
        #expect(try await web.read("/nope.html") == nil)
    }

    @Test(arguments: [
        "/../outside/secret.txt", "/%2e%2e/outside/secret.txt", "/..%2foutside%2fsecret.txt",
        "/sub/%2e%2e/%2e%2e/outside/secret.txt",
    ])
    func traversalOutOfARealRootIsRefused(_ path: String) async throws {
        let web = try WebRoot()
        #expect(try await web.read(path) == nil)
    }

    @Test func dotfileInTheRootIsNotServed() async throws {
        let web = try WebRoot()
        #expect(try await web.read("/.secret") == nil)
    }

    @Test func symlinkPointingOutsideTheRootIsRefused() async throws {
        let web = try WebRoot()
        #expect(try await web.read("/escape.txt") == nil)
        #expect(try await web.read("/escape-dir/secret.txt") == nil)
    }

    @Test func symlinkToASiblingSharingTheRootsPrefixIsRefused() async throws {
        let web = try WebRoot()
        #expect(try await web.read("/sibling.txt") == nil)
    }

    @Test func symlinkStayingInsideTheRootIsServed() async throws {
        let web = try WebRoot()
        #expect(text(try await web.read("/alias.js")) == "export const app = 1")
    }

    @Test func rootReachedThroughASymlinkStillServes() async throws {
        let web = try WebRoot()
        let linkedRoot = web.base.appendingPathComponent("linked-web").path
        try FileManager.default.createSymbolicLink(atPath: linkedRoot, withDestinationPath: web.root.path)
        #expect(text(try await web.read("/app.js", webRoot: linkedRoot)) == "export const app = 1")
        #expect(try await web.read("/escape.txt", webRoot: linkedRoot) == nil)
    }

    @Test func missingWebRootServesNothing() async throws {
        let web = try WebRoot()
        #expect(try await web.read("/index.html", webRoot: web.base.appendingPathComponent("absent").path) == nil)
    }
}
