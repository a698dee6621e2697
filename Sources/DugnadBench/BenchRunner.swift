import NIOCore

/// Runs one scenario against a running hub and returns its ``BenchReport``. The entry point
/// of `dugnad bench` and of the bench's own tests:
///
/// ```swift
/// var configuration = BenchConfiguration(scenario: .fanout)
/// configuration.secret = Array(secret.utf8)
/// try configuration.setURL("ws://127.0.0.1:8080/ws")
/// let report = try await BenchRunner(configuration: configuration).run { print($0.line) }
/// ```
///
/// The client runs on its own `MultiThreadedEventLoopGroup` of ``BenchConfiguration/threads``
/// threads, shut down before `run` returns. Each connection is a single NIO handler that reads
/// frames by byte scanning and records into per-thread counters and HdrHistograms, merged at
/// the end, so the client stays cheap next to the hub it measures.
public struct BenchRunner: Sendable {
    public let configuration: BenchConfiguration

    public init(configuration: BenchConfiguration) {
        self.configuration = configuration
    }

    /// Runs the scenario.
    ///
    /// - Parameter progress: Called on every phase change and once a second (from a task of
    ///   the runner, never from an event loop).
    /// - Throws: ``BenchError``: a bad configuration, too few file descriptors, or a hub that
    ///   could not be connected to or refused a connection's setup (``BenchError/isConnectionFailure``).
    ///   Loss, rejections and closes during the run are results, not errors.
    public func run(progress: (@Sendable (BenchProgress) -> Void)? = nil) async throws -> BenchReport {
        try configuration.validate()
        // The reserve covers stdio and each event loop's epoll, eventfd and timerfd.
        _ = try ProcessProbe.raiseFileLimit(connections: configuration.peakConnections, reserve: 32)
        let fleet = try await ClientFleet.start(configuration: configuration)
        let monitor = RunMonitor(scenario: configuration.scenario, fleet: fleet, callback: progress)
        do {
            let report = try await withThrowingTaskGroup(of: BenchReport?.self) { group in
                group.addTask {
                    await monitor.tick()
                    return nil
                }
                group.addTask {
                    switch configuration.scenario {
                    case .fanout, .groups, .publish: try await runTraffic(fleet: fleet, monitor: monitor)
                    case .idle: try await runIdle(fleet: fleet, monitor: monitor)
                    case .churn: try await runChurn(fleet: fleet, monitor: monitor)
                    }
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let report = result { return report }
                }
                throw BenchError.configuration("the run ended without a report")
            }
            await fleet.shutdown()
            return report
        } catch {
            await fleet.shutdown()
            throw error
        }
    }

    // MARK: - Shared pieces of the scenarios

    /// The channels of the run: `<prefix>-<scenario>`, numbered when there are several.
    var channelNames: [String] {
        let base = "\(configuration.namePrefix)-\(configuration.scenario.rawValue)"
        return configuration.channels == 1 ? [base] : (0..<configuration.channels).map { "\(base)-\($0)" }
    }

    /// The hub's RSS and CPU now, when its pid is known.
    func sampleServer() -> (rssKB: Int?, cpu: ProcessProbe.CPUTime?) {
        guard let pid = configuration.serverPID else { return (nil, nil) }
        return (ProcessProbe.residentKB(pid: pid), ProcessProbe.cpu(pid: pid))
    }

    static func seconds(_ from: NIODeadline, _ to: NIODeadline) -> Double {
        Double((to - from).nanoseconds) / 1e9
    }

    static func nanoseconds(_ seconds: Double) -> UInt64 {
        UInt64((seconds * 1e9).rounded())
    }

    /// Sleeps until the monotonic time `deadline` (ns), in steps, so cancellation is prompt.
    static func sleep(until deadline: UInt64) async {
        while true {
            let now = NIODeadline.now().uptimeNanoseconds
            guard now < deadline else { return }
            try? await Task.sleep(for: .nanoseconds(Int64(min(deadline - now, 100_000_000))))
            if Task.isCancelled { return }
        }
    }

    /// Notes for limits the run ran into, so the reader knows which hub setting to lift.
    static func limitNotes(_ counters: BenchCounters) -> [String] {
        var notes: [String] = []
        if let limited = counters.rejectedCodes["rate_limited"] {
            notes.append(
                "\(Format.count(limited)) publishes were rate limited: start the hub with higher --publish-rate/--publish-burst "
                    + "and --command-rate/--command-burst")
        }
        if let slow = counters.closeCodes[4008] {
            notes.append(
                "the hub closed \(Format.count(slow)) slow consumers (4008): the client could not keep up, or raise --outbound-limit"
            )
        }
        if let strikes = counters.closeCodes[4029] {
            notes.append("the hub closed \(Format.count(strikes)) connections for repeated rate limiting (4029)")
        }
        if counters.unreadableFrames > 0 {
            notes.append("\(Format.count(counters.unreadableFrames)) frames could not be read by the bench's scanner")
        }
        return notes
    }
}
