import NIOCore

extension BenchRunner {
    /// idle: opens N connections, each joined to one of the channels, holds them for the
    /// duration, and reads the hub's RSS before and after (with `--server-pid`).
    func runIdle(fleet: ClientFleet, monitor: RunMonitor) async throws -> BenchReport {
        let c = configuration
        let names = channelNames
        let prefix = c.namePrefix
        let serverBefore = sampleServer()
        let cpuFrom = ProcessProbe.ownCPU()
        let started = NIODeadline.now()
        await monitor.enter(.connecting, wanted: c.connections)
        let held = try await fleet.open(count: c.connections) { index in
            let joined = (0..<c.joinsPerConnection).map { names[(index + $0) % names.count] }
            return ("\(prefix)-idle-\(index)", .holder, joined, 0)
        }
        var report = BenchReport(configuration: c)
        report.connections = held.count
        report.setupSeconds = Self.seconds(started, .now())
        report.connectionsPerSecond = report.setupSeconds > 0 ? Double(held.count) / report.setupSeconds : 0

        // The memory reading ends the hold, so the hub has long finished what joins leave
        // behind (presence flushes, session writes).
        await monitor.enter(.holding)
        let holdStarted = NIODeadline.now()
        let serverFrom = sampleServer()
        await Self.sleep(until: holdStarted.uptimeNanoseconds + Self.nanoseconds(c.duration))
        let serverAfter = sampleServer()
        let counters = await fleet.counters()
        let latencies = await fleet.latencies()
        let cpuTo = ProcessProbe.ownCPU()
        report.windowSeconds = Self.seconds(holdStarted, .now())
        await monitor.enter(.closing)
        await fleet.close(held)

        report.serverVersion = counters.serverVersion
        report.unexpectedCloses = counters.unexpectedCloses
        report.closeCodes = counters.closeCodes
        report.presenceDiffs = counters.presenceDiffs
        report.connectLatency = latencies.connect.summary
        report.joinLatency = latencies.join.summary
        report.clientCPU = CPUUsage(cpuTo - cpuFrom, wall: Self.seconds(started, .now()))
        if let pid = c.serverPID {
            var server = ServerUsage(pid: pid, rssBeforeKB: serverBefore.rssKB, rssAfterKB: serverAfter.rssKB)
            if let before = serverBefore.rssKB, let after = serverAfter.rssKB, held.count > 0 {
                server.bytesPerConnection = Double(after - before) * 1024 / Double(held.count)
            }
            if let from = serverFrom.cpu, let to = serverAfter.cpu {
                server.cpu = CPUUsage(to - from, wall: report.windowSeconds)
            }
            report.server = server
        }
        report.notes = Self.limitNotes(counters)
        if report.unexpectedCloses > 0 {
            report.notes.append("\(Format.count(report.unexpectedCloses)) held connections were closed by the hub")
        }
        return report
    }
}
