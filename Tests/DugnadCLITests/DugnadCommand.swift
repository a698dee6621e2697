import DugnadCore
import DugnadSQLite
import DugnadTestSupport
import Foundation

/// The built `dugnad` binary, run as an admin runs it, on files in a fresh temporary folder
/// that is also the `--data-dir` of its SQLite store.
struct DugnadCommand {
    /// What one run left behind.
    struct Outcome {
        /// True when the process exited (rather than died of a signal, as a crash does).
        var exited: Bool
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary `swift build` puts in `.build/debug` (as `TestCluster.binary` finds it).
    static var binary: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent(".build/debug/dugnad").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dugnad-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func removeFolder() {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Writes `bytes` to `name` in the folder and returns its path.
    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// `text` as UTF-8, exactly as written: the tests spell out every "\r\n" and BOM.
    func file(_ name: String, _ text: String) throws -> String {
        try file(name, Array(text.utf8))
    }

    /// `dugnad users import <path> --data-dir <folder>`.
    func importUsers(_ path: String) async throws -> Outcome {
        try await run(["users", "import", path, "--data-dir", folder.path])
    }

    /// `dugnad <arguments> --data-dir <folder>`: an admin command on the folder's store.
    func admin(_ arguments: String...) async throws -> Outcome {
        try await run(arguments + ["--data-dir", folder.path])
    }

    /// Runs the binary to its end. Output goes to files, not pipes, so that no amount of it
    /// can block the child while the test waits.
    func run(_ arguments: [String]) async throws -> Outcome {
        guard let binary = Self.binary else { throw Missing("no .build/debug/dugnad: run swift build first") }
        let stdoutURL = folder.appendingPathComponent("stdout-\(UUID().uuidString)")
        let stderrURL = folder.appendingPathComponent("stderr-\(UUID().uuidString)")
        let child = try ChildProcess(
            executable: binary, arguments: arguments, outputPath: stdoutURL.path, errorPath: stderrURL.path)
        let termination = await child.exit()
        let status: Int32
        switch termination {
        case .exited(let code): status = code
        case .signalled(let signal): status = signal
        }
        return Outcome(
            exited: termination == .exited(status), status: status,
            stdout: String(decoding: try Data(contentsOf: stdoutURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self))
    }

    /// Every user in the folder's SQLite file, read back through the store the hub uses.
    func users() throws -> [UserRecord] {
        try inspect { try $0.allUsers() }
    }

    /// Reads the folder's SQLite file through the store the hub uses.
    func inspect<T>(_ body: (SQLiteStore) throws -> T) throws -> T {
        let store = try SQLiteStore(path: folder.appendingPathComponent("dugnad.sqlite").path)
        defer { store.close() }
        return try body(store)
    }

    /// The whole audit log, newest first.
    func auditLog() throws -> [AuditEntry] {
        try inspect { try $0.auditPage(beforeSeq: nil, limit: 10_000).entries }
    }

    struct Missing: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
