import NIOCore

extension BenchRunner {
    /// churn: watchers join the channel and stay; meanwhile connections are opened at the churn
    /// rate, each joins, stays `hold` seconds and leaves, so the hub does join, leave and
    /// presence work all the time and the watchers receive the presence diffs.
    func runChurn(fleet: ClientFleet, monitor: RunMonitor) async throws -> BenchReport {
        let c = configuration
        let channel = channelNames[0]
        let prefix = c.namePrefix
        let serverBefore = sampleServer()
        await monitor.enter(.connecting, wanted: c.subscribers)
        let setupStarted = NIODeadline.now()
        let watchers = try await fleet.open(count: c.subscribers) { index in
            ("\(prefix)-watch-\(index)", .holder, [channel], 0)
        }
        var report = BenchReport(configuration: c)
        report.connections = watchers.count
        report.setupSeconds = Self.seconds(setupStarted, .now())
        let presenceBefore = await fleet.counters().presenceDiffs

        // Users are reused round a pool as large as the connections in progress, so that two
        // at once are rarely the same user and the hub's user table does not grow with the run.
        let limit = max(16, c.peakConnections - c.subscribers)
        let ledger = ChurnLedger(limit: limit)
        let hold = Self.nanoseconds(c.hold)
        await monitor.enter(.churning, wanted: c.subscribers)
        let cpuFrom = ProcessProbe.ownCPU()
        let serverFrom = sampleServer()
        let started = NIODeadline.now().uptimeNanoseconds
        let until = started + Self.nanoseconds(c.duration)
        let churnEnded = await withDiscardingTaskGroup { group in
            var scheduled = 0
            while true {
                let now = NIODeadline.now().uptimeNanoseconds
                guard now < until else { break }
                let due = Int(Double(now - started) / 1e9 * c.churnRate) + 1 - scheduled
                for _ in 0..<max(0, due) {
                    let number = scheduled
                    scheduled += 1
                    guard await ledger.begin() else { continue }
                    group.addTask {
                        do {
                            let connection = try await fleet.connect(
                                index: c.subscribers + number, user: "\(prefix)-churn-\(number % limit)",
                                role: .churner(holdNanos: hold), channels: [channel])
                            try? await connection.closeFuture.get()
                            await ledger.end(failure: nil)
                        } catch {
                            await ledger.end(failure: error)
                        }
                    }
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
            // Measured up to here; the group then waits for the last connections to leave.
            return (NIODeadline.now().uptimeNanoseconds, ProcessProbe.ownCPU(), sampleServer())
        }
        let (cpuTo, serverTo) = (churnEnded.1, churnEnded.2)
        let counters = await fleet.counters()
        let latencies = await fleet.latencies()
        await monitor.enter(.closing)
        await fleet.close(watchers)

        report.windowSeconds = Double(churnEnded.0 - started) / 1e9
        report.serverVersion = counters.serverVersion
        report.churnStarted = await ledger.started
        report.churnCompleted = await ledger.completed
        report.churnFailed = await ledger.failed
        report.churnSkipped = await ledger.skipped
        report.presenceDiffs = counters.presenceDiffs - presenceBefore
        report.unexpectedCloses = counters.unexpectedCloses
        report.closeCodes = counters.closeCodes
        report.connectionsPerSecond = Double(report.churnStarted) / report.windowSeconds
        report.presenceDiffsPerSecond = Double(report.presenceDiffs) / report.windowSeconds
        report.connectLatency = latencies.connect.summary
        report.joinLatency = latencies.join.summary
        report.clientCPU = CPUUsage(cpuTo - cpuFrom, wall: report.windowSeconds)
        if let pid = c.serverPID {
            var server = ServerUsage(pid: pid, rssBeforeKB: serverBefore.rssKB, rssAfterKB: serverTo.rssKB)
            if let from = serverFrom.cpu, let to = serverTo.cpu { server.cpu = CPUUsage(to - from, wall: report.windowSeconds) }
            report.server = server
        }
        report.notes = Self.limitNotes(counters)
        if let failure = await ledger.firstFailure {
            report.notes.append("first churn failure: \(failure)")
        }
        if report.churnSkipped > 0 {
            report.notes.append(
                "\(Format.count(report.churnSkipped)) churn connections were skipped: \(limit) were still in progress")
        }
        return report
    }
}
