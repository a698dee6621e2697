#if canImport(Glibc)
    import Glibc
#endif
import Dispatch
import NIOConcurrencyHelpers

/// A child process (the built `dugnad` binary) started with `posix_spawn`, its standard
/// output and error sent to files or inherited.
///
/// Not Foundation's `Process`: on Linux, with Swift 6.3.1, its `run()` crashes now and
/// then (signal 11 in a `memcpy`) in a process with many descriptors open, an over-read
/// in `findMaximumOpenFromProcSelfFD` (swift-corelibs-foundation pull request 5472). A
/// test process full of live sockets is such a process: it crashed the whole test run once.
public final class ChildProcess: Sendable {
    public enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)
    }

    public let pid: pid_t
    private let termination = NIOLockedValueBox<Termination?>(nil)

    /// Starts `executable` with `arguments`. `outputPath` and `errorPath` name files that
    /// receive standard output and error (created or truncated; the same path for both
    /// appends both to one file); nil inherits the test's own. Every other descriptor of the
    /// test process is closed in the child.
    public init(executable: String, arguments: [String], outputPath: String?, errorPath: String?) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let flags = O_WRONLY | O_CREAT | O_APPEND
        if let outputPath {
            Self.empty(outputPath)
            posix_spawn_file_actions_addopen(&actions, 1, outputPath, flags, 0o600)
        }
        if let errorPath {
            if errorPath != outputPath { Self.empty(errorPath) }
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, flags, 0o600)
        }
        guard Self.addCloseFrom(&actions, 3) == 0 else {
            throw ChildProcessError("could not arrange for the test's descriptors to be closed in the child")
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard result == 0 else {
            throw ChildProcessError("could not start \(executable): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    /// Still running (reaps the child if it has ended).
    public var isRunning: Bool {
        reap(blocking: false) == nil
    }

    /// How it ended, waiting for the end.
    @discardableResult
    public func wait() -> Termination {
        while true {
            if let ended = reap(blocking: true) { return ended }
        }
    }

    /// How it ended, waited for on a thread of its own: a test waiting for a child must
    /// not hold one of Swift's few cooperative threads (two on this machine), or every
    /// other test's tasks stall behind it.
    public func exit() async -> Termination {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.wait()) }
        }
    }

    /// Sends `signal` unless it is known to have ended.
    public func send(_ signal: Int32) {
        guard termination.withLockedValue({ $0 }) == nil else { return }
        _ = kill(pid, signal)
    }

    /// Exited by itself with status 0.
    public var exitedCleanly: Bool {
        termination.withLockedValue { $0 } == .exited(0)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up at run
    /// time because Swift's Glibc module does not import it. Without it the child would
    /// keep copies of the test's sockets, and a connection the test closed would stay open.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else {
            fatalError("this glibc lacks posix_spawn_file_actions_addclosefrom_np (2.34 or later is needed)")
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// Creates `path` empty, or empties it.
    private static func empty(_ path: String) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if descriptor >= 0 { close(descriptor) }
    }

    /// Waits outside the lock, so that `send` and `isRunning` never wait behind a blocking
    /// `wait()` on another thread.
    private func reap(blocking: Bool) -> Termination? {
        if let known = termination.withLockedValue({ $0 }) { return known }
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, blocking ? 0 : WNOHANG)
        if reaped == pid {
            // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
            let signal = status & 0x7f
            let ended: Termination = signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
            termination.withLockedValue { $0 = ended }
            return ended
        }
        if reaped == -1, errno == ECHILD {
            // Another thread reaped it and is about to record how it ended.
            while true {
                if let known = termination.withLockedValue({ $0 }) { return known }
                sched_yield()
            }
        }
        // Still running, or a blocking wait interrupted: the caller asks again.
        return nil
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
