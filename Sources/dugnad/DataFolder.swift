import Foundation

/// The data folder holds every message (the SQLite file) and the JWT secret: only the
/// hub's own user may read it. The folder is made 0700, what is in it 0600 (existing
/// files too, for folders made before this rule), and the process's umask is 077, so
/// that every file the hub or SQLite creates later (the WAL, the shared-memory file) is
/// private from the start.
enum DataFolder {
    static func secure(_ path: String) throws {
        umask(0o077)
        let manager = FileManager.default
        try manager.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        for name in try manager.contentsOfDirectory(atPath: path) {
            let item = path + "/" + name
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: item, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: item)
        }
    }
}
