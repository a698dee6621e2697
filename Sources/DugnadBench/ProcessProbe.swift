import Foundation

/// What the operating system says about this process and the hub's: CPU time, resident
/// memory, the file limit, the CPUs we may run on, the ephemeral port range. Linux `/proc`
/// readings return nil elsewhere.
enum ProcessProbe {
    /// CPU seconds spent in user and kernel mode.
    struct CPUTime: Sendable, Equatable {
        var user: Double
        var system: Double

        static let zero = CPUTime(user: 0, system: 0)

        static func - (lhs: CPUTime, rhs: CPUTime) -> CPUTime {
            CPUTime(user: lhs.user - rhs.user, system: lhs.system - rhs.system)
        }

        var total: Double { user + system }
    }

    /// This process's CPU time so far (`getrusage(RUSAGE_SELF)`, all threads).
    static func ownCPU() -> CPUTime {
        var usage = rusage()
        #if os(Linux)
            getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
            getrusage(RUSAGE_SELF, &usage)
        #endif
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return CPUTime(user: seconds(usage.ru_utime), system: seconds(usage.ru_stime))
    }

    /// Another process's CPU time from `/proc/PID/stat` (fields 14 and 15, in clock ticks).
    static func cpu(pid: Int32) -> CPUTime? {
        guard let text = readProcFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return CPUTime(user: user / ticks, system: system / ticks)
    }

    /// Resident set size in KiB, from `VmRSS` in `/proc/PID/status`.
    static func residentKB(pid: Int32) -> Int? {
        guard let text = readProcFile("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return nil
    }

    /// CPUs this process may run on (respects `taskset`), else the core count.
    static func allowedCPUs() -> Int {
        guard let text = readProcFile("/proc/self/status"),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        else { return ProcessInfo.processInfo.activeProcessorCount }
        var count = 0
        for range in line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces).split(separator: ",") {
            let bounds = range.split(separator: "-").compactMap { Int($0) }
            if bounds.count == 2 { count += bounds[1] - bounds[0] + 1 } else if bounds.count == 1 { count += 1 }
        }
        return max(1, count)
    }

    /// Ports the kernel hands out for outgoing connections from one source address.
    static func ephemeralPortCount() -> Int {
        guard let text = readProcFile("/proc/sys/net/ipv4/ip_local_port_range") else { return 28_232 }
        let bounds = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
        guard bounds.count == 2, bounds[1] >= bounds[0] else { return 28_232 }
        return bounds[1] - bounds[0] + 1
    }

    /// Raises the soft file-descriptor limit so that `connections` sockets plus `reserve`
    /// descriptors for the process itself can be open: up to the hard limit, and past it when
    /// the process may raise that. Returns the limit in force.
    static func raiseFileLimit(connections: Int, reserve: Int) throws(BenchError) -> Int {
        let needed = connections + reserve
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return needed }
        if UInt64(limit.rlim_cur) >= UInt64(needed) { return Int(clamping: UInt64(limit.rlim_cur)) }
        var wanted = limit
        wanted.rlim_cur = rlim_t(needed)
        if UInt64(limit.rlim_max) < UInt64(needed) {
            wanted.rlim_max = rlim_t(needed)
            if setrlimit(RLIMIT_NOFILE_VALUE, &wanted) == 0 { return needed }
            let hard = Int(clamping: UInt64(limit.rlim_max))
            throw .resources(
                "\(connections) connections need \(needed) file descriptors, but this process may have at most \(hard) "
                    + "(the hard limit, `ulimit -Hn`; raising it was refused), so at most \(max(0, hard - reserve)) "
                    + "connections fit: ask for fewer, or have an administrator raise the hard limit "
                    + "(limits.conf, systemd LimitNOFILE)")
        }
        guard setrlimit(RLIMIT_NOFILE_VALUE, &wanted) == 0 else {
            throw .resources("cannot raise the file limit to \(needed): \(String(cString: strerror(errno)))")
        }
        return needed
    }

    #if os(Linux)
        private static let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
    #endif

    /// Reads a whole `/proc` file (their size is reported as 0, so read until the end).
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > 1 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
