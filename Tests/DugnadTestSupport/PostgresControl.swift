#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Stops and starts the test PostgreSQL server through `scripts/postgres`, for the tests
/// that prove recovery from a restart. Those stop the real server, so they run only when
/// `DUGNAD_TEST_POSTGRES_CONTROL` names the script, and each runs alone.
public enum PostgresControl {
    /// The script, when the environment names it.
    public static var script: String? {
        ProcessInfo.processInfo.environment["DUGNAD_TEST_POSTGRES_CONTROL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Runs `script command` (`stop`, `start`) and waits for it.
    ///
    /// posix_spawn rather than Foundation's Process: `start` leaves a server daemon behind,
    /// which must inherit neither the test's output (the test runner would wait for it) nor
    /// Process's means of noticing the exit (`waitUntilExit` then never returns).
    public static func run(_ command: String) throws {
        guard let path = script else { throw Failure("DUGNAD_TEST_POSTGRES_CONTROL is not set") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for descriptor: Int32 in [0, 1, 2] {
            posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        let arguments: [UnsafeMutablePointer<CChar>?] = [strdup(path), strdup(command), nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, arguments, environ)
        guard spawned == 0 else { throw Failure("could not run \(path): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else { throw Failure("\(path) \(command) failed (wait status \(status))") }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
