import Foundation
import NIOCore
import NIOPosix

/// Serves the web client from the web root. Paths are decoded, any `..` segment is
/// refused, and the resolved real path (symlinks followed) must stay inside the root.
/// Files are read on a thread pool, never on an event loop.
final class StaticFiles: Sendable {
    private let root: String?
    private let pool: NIOThreadPool

    struct File: Sendable {
        var bytes: [UInt8]
        var contentType: String
    }

    init(webRoot: String, pool: NIOThreadPool) {
        let url = URL(fileURLWithPath: webRoot).standardizedFileURL.resolvingSymlinksInPath()
        var isDirectory: ObjCBool = false
        root =
            FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue ? url.path : nil
        self.pool = pool
    }

    /// nil when there is no such file (or the path tries to leave the root).
    func read(path rawPath: String, on loop: any EventLoop) -> EventLoopFuture<File?> {
        guard let root, let relative = Self.safeRelativePath(rawPath) else { return loop.makeSucceededFuture(nil) }
        return pool.runIfActive(eventLoop: loop) {
            var candidate = URL(fileURLWithPath: root).appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue {
                candidate.appendPathComponent("index.html")
            }
            let resolved = candidate.resolvingSymlinksInPath().path
            guard resolved == root || resolved.hasPrefix(root + "/") else { return nil }
            guard let data = FileManager.default.contents(atPath: resolved) else { return nil }
            return File(bytes: [UInt8](data), contentType: Self.contentType(of: resolved))
        }
    }

    static func safeRelativePath(_ rawPath: String) -> String? {
        let pathOnly = rawPath.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard let decoded = pathOnly.removingPercentEncoding, !decoded.contains("\0"), !decoded.contains("\\") else { return nil }
        let segments = decoded.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments where segment == ".." || segment == "." || segment.hasPrefix(".") {
            return nil
        }
        return segments.joined(separator: "/")
    }

    static func contentType(of path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "html": "text/html; charset=utf-8"
        case "js", "mjs": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "json": "application/json"
        case "svg": "image/svg+xml"
        case "png": "image/png"
        case "ico": "image/x-icon"
        case "woff2": "font/woff2"
        default: "application/octet-stream"
        }
    }
}
