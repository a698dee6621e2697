import NIOCore

extension BenchRunner {
    /// fanout, groups and publish: subscribers join, publishers publish on a schedule for the
    /// warm-up and the duration, then the bench waits for the last acks and deliveries and counts.
    func runTraffic(fleet: ClientFleet, monitor: RunMonitor) async throws -> BenchReport {
        let c = configuration
        let names = channelNames
        let prefix = c.namePrefix
        let serverBefore = sampleServer()
        await monitor.enter(.connecting, wanted: c.subscribers + c.publishers)

        let setupStarted = NIODeadline.now()
        let subscribers = try await fleet.open(count: c.subscribers) { index in
            ("\(prefix)-sub-\(index)", .subscriber, [names[index % names.count]], 0)
        }
        let publishers: [any Channel]
        do {
            publishers = try await fleet.open(count: c.publishers, firstIndex: c.subscribers) { index in
                ("\(prefix)-pub-\(index)", .publisher, names, index)
            }
        } catch {
            await fleet.close(subscribers)
            throw error
        }
        var report = BenchReport(configuration: c)
        report.setupSeconds = Self.seconds(setupStarted, .now())
        report.connections = subscribers.count + publishers.count

        // Everyone is set up: start publishing a moment from now, on every publisher at once.
        let start = NIODeadline.now().uptimeNanoseconds + 50_000_000
        let measureFrom = start + Self.nanoseconds(c.warmup)
        let until = measureFrom + Self.nanoseconds(c.duration)
        await fleet.setWindow(MeasurementWindow(from: measureFrom, until: until))
        for (index, channel) in publishers.enumerated() {
            let quota = c.messages.map { $0 / c.publishers + (index < $0 % c.publishers ? 1 : 0) } ?? Int.max
            let plan = PublishPlan(
                start: start, until: until, ratePerSecond: c.rate / Double(c.publishers), inFlight: c.effectiveInFlight,
                quota: quota)
            channel.pipeline.fireUserInboundEventTriggered(BenchCommand.startPublishing(plan))
        }
        if c.warmup > 0 {
            await monitor.enter(.warmup)
            await Self.sleep(until: measureFrom)
        }
        await monitor.enter(.measuring)
        let cpuFrom = ProcessProbe.ownCPU()
        let serverFrom = sampleServer()

        // Publishing ends at `until`, or earlier once every quota is used up and acknowledged.
        var counters = await fleet.counters()
        while counters.publishersFinished < publishers.count {
            let now = NIODeadline.now()
            if now.uptimeNanoseconds >= until { break }
            try? await Task.sleep(for: .milliseconds(20))
            counters = await fleet.counters()
        }
        let windowEnd = min(until, NIODeadline.now().uptimeNanoseconds)
        let cpuTo = ProcessProbe.ownCPU()
        let serverTo = sampleServer()
        await monitor.enter(.draining)

        // Drain: wait for outstanding acks, then for deliveries, as long as either moves.
        let subscribersPerChannel = (0..<names.count).map { channel in
            c.subscribers / names.count + (channel < c.subscribers % names.count ? 1 : 0)
        }
        var lastAcks = -1
        var lastDeliveries = -1
        var lastProgress = NIODeadline.now()
        while true {
            counters = await fleet.counters()
            let expected = Self.expectedDeliveries(counters, subscribersPerChannel: subscribersPerChannel)
            let acksDone = counters.publishersFinished >= publishers.count
            if acksDone, counters.delivered >= expected { break }
            if counters.acked + counters.rejected != lastAcks || counters.delivered != lastDeliveries {
                lastAcks = counters.acked + counters.rejected
                lastDeliveries = counters.delivered
                lastProgress = .now()
            } else if Self.seconds(lastProgress, .now()) > c.drainTimeout {
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        await monitor.enter(.closing)
        let latencies = await fleet.latencies()
        await fleet.close(subscribers + publishers)

        report.serverVersion = counters.serverVersion
        report.messagesSent = counters.sent
        report.messagesAcked = counters.acked
        report.publishRejected = counters.rejected
        report.rejectedCodes = counters.rejectedCodes
        report.unanswered = max(0, counters.sent - counters.acked - counters.rejected)
        report.lateSends = counters.lateSends
        report.deliveriesExpected = Self.expectedDeliveries(counters, subscribersPerChannel: subscribersPerChannel)
        report.deliveries = counters.delivered
        report.lost = max(0, report.deliveriesExpected - counters.delivered)
        report.duplicates = counters.duplicates
        report.unexpectedCloses = counters.unexpectedCloses
        report.closeCodes = counters.closeCodes
        report.presenceDiffs = counters.presenceDiffs
        report.windowSeconds = windowEnd > measureFrom ? Double(windowEnd - measureFrom) / 1e9 : 0
        if report.windowSeconds > 0 {
            report.sentPerSecond = Double(counters.sentInWindow) / report.windowSeconds
            report.ackedPerSecond = Double(counters.ackedInWindow) / report.windowSeconds
            report.deliveriesPerSecond = Double(counters.deliveredInWindow) / report.windowSeconds
        }
        report.connectionsPerSecond = report.setupSeconds > 0 ? Double(report.connections) / report.setupSeconds : 0
        report.deliveryLatency = latencies.delivery.summary
        report.ackLatency = latencies.ack.summary
        report.connectLatency = latencies.connect.summary
        report.joinLatency = latencies.join.summary
        report.clientCPU = CPUUsage(cpuTo - cpuFrom, wall: report.windowSeconds)
        if let pid = c.serverPID {
            var server = ServerUsage(pid: pid, rssBeforeKB: serverBefore.rssKB, rssAfterKB: serverTo.rssKB)
            if let from = serverFrom.cpu, let to = serverTo.cpu { server.cpu = CPUUsage(to - from, wall: report.windowSeconds) }
            report.server = server
        }
        report.notes = Self.limitNotes(counters)
        if report.unanswered > 0 {
            report.notes.append("\(Format.count(report.unanswered)) publishes had no reply within the drain timeout")
        }
        if report.lost > 0, report.unexpectedCloses == 0 {
            report.notes.append("deliveries were lost without the hub closing any connection")
        }
        if report.clientWasBusy {
            report.notes.append("the client used all the CPU it had: these figures may show the client's limit, not the hub's")
        }
        return report
    }

    /// For each channel, the acknowledged messages times the subscribers in it.
    static func expectedDeliveries(_ counters: BenchCounters, subscribersPerChannel: [Int]) -> Int {
        var expected = 0
        for (channel, acked) in counters.ackedPerChannel.enumerated() where channel < subscribersPerChannel.count {
            expected += acked * subscribersPerChannel[channel]
        }
        return expected
    }
}
