import ArgumentParser
import DugnadCore
import Foundation
import Logging

/// Where the HS256 secret comes from: `--jwt-secret`, `DUGNAD_JWT_SECRET`, or the file the
/// hub keeps in its data directory.
struct SecretOptions: ParsableArguments {
    @Option(name: .long, help: "Data folder (holds the SQLite file and the generated JWT secret).")
    var dataDir = "dugnad-data"

    @Option(
        name: .long, help: "HS256 secret, at least 32 bytes (default: env DUGNAD_JWT_SECRET, else the data folder's secret file)."
    )
    var jwtSecret: String?

    static let secretFileName = "jwt-secret"

    /// The configured secret, if any (flag, then environment).
    var configuredSecret: String? {
        jwtSecret ?? ProcessInfo.processInfo.environment["DUGNAD_JWT_SECRET"]
    }

    /// The secret to use; generates and stores one (mode 0600) when `create` and none exists.
    func resolveSecret(create: Bool) throws -> (secret: [UInt8], generated: Bool) {
        if let configured = configuredSecret {
            let bytes = Array(configured.utf8)
            guard bytes.count >= TokenVerifier.minimumSecretBytes else {
                throw ValidationError(
                    "The JWT secret is \(bytes.count) bytes; it must be at least \(TokenVerifier.minimumSecretBytes) bytes (e.g. `openssl rand -hex 32`)."
                )
            }
            return (bytes, false)
        }
        let path = dataDir + "/" + Self.secretFileName
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text.utf8.count >= TokenVerifier.minimumSecretBytes else {
                throw ValidationError("\(path) holds a secret shorter than \(TokenVerifier.minimumSecretBytes) bytes.")
            }
            return (Array(text.utf8), false)
        }
        guard create else {
            throw ValidationError(
                "No JWT secret: pass --jwt-secret, set DUGNAD_JWT_SECRET, or point --data-dir at a hub's data folder.")
        }
        try DataFolder.secure(dataDir)
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(format: "%02x", generator.next() as UInt8) }.joined()
        try writePrivateFile(path, secret, replace: false)
        return (Array(secret.utf8), true)
    }
}

/// Writes `text` to a file only its owner may read (0600 from the moment it exists, never
/// readable by others, not even briefly). Without `replace`, fails if the file exists.
func writePrivateFile(_ path: String, _ text: String, replace: Bool = true) throws {
    if replace { unlink(path) }
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else { throw ValidationError("Cannot create \(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    guard write(fd, bytes, bytes.count) == bytes.count else { throw ValidationError("Cannot write \(path)") }
}

/// Durations like `90s`, `15m`, `8h`, `7d`, or plain seconds.
struct Duration_: ExpressibleByArgument {
    let seconds: Int64

    init?(argument: String) {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let last = argument.last, let unit = units[last], let value = Int64(argument.dropLast()), value > 0 {
            seconds = value * unit
        } else if let value = Int64(argument), value > 0 {
            seconds = value
        } else {
            return nil
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
