extension BenchReport {
    /// The human summary: parameters, counts (loss spelled out), rates, a latency table,
    /// client and hub resource use, and notes.
    public var summary: String {
        let c = configuration
        var lines: [String] = []
        lines.append("dugnad bench \(c.scenario.rawValue)  \(c.nodeURLs.joined(separator: " "))" + (serverVersion.map { "  (hub \($0))" } ?? ""))
        lines.append("  " + parameterLine)
        if let note = c.note { lines.append("  note: \(note)") }
        lines.append("")
        func row(_ label: String, _ text: String) {
            lines.append("  " + label.padding(toLength: 16, withPad: " ", startingAt: 0) + text)
        }
        row(
            "connections",
            "\(Format.count(connections)) set up in \(Format.seconds(setupSeconds))"
                + (setupSeconds > 0 && c.scenario != .churn ? " (\(Format.rate(Double(connections) / setupSeconds))/s)" : ""))
        switch c.scenario {
        case .fanout, .groups, .publish:
            row(
                "messages",
                "sent \(Format.count(messagesSent))  acked \(Format.count(messagesAcked))  "
                    + "rejected \(Format.count(publishRejected))  unanswered \(Format.count(unanswered))"
                    + (lateSends > 0 ? "  sent late \(Format.count(lateSends))" : ""))
            let lossText = lost > 0 ? "LOST \(Format.count(lost)) (\(Format.percent(lossPercent)))" : "lost 0"
            row(
                "deliveries",
                "expected \(Format.count(deliveriesExpected))  delivered \(Format.count(deliveries))  "
                    + "\(lossText)  duplicates \(Format.count(duplicates))")
            row(
                "rates",
                "sent \(Format.rate(sentPerSecond))/s  acked \(Format.rate(ackedPerSecond))/s  "
                    + "delivered \(Format.rate(deliveriesPerSecond))/s  (over \(Format.seconds(windowSeconds)))")
        case .idle:
            row("held", "\(Format.seconds(windowSeconds))")
        case .churn:
            row(
                "churn",
                "started \(Format.count(churnStarted))  completed \(Format.count(churnCompleted))  "
                    + "failed \(Format.count(churnFailed))" + (churnSkipped > 0 ? "  skipped \(Format.count(churnSkipped))" : ""))
            row(
                "rates",
                "\(Format.rate(connectionsPerSecond)) connections/s  "
                    + "\(Format.rate(presenceDiffsPerSecond)) presence diffs/s at the watchers  (over \(Format.seconds(windowSeconds)))"
            )
        }
        if unexpectedCloses > 0 || !closeCodes.isEmpty {
            let codes = closeCodes.sorted { $0.key < $1.key }.map { "\($0.key)×\(Format.count($0.value))" }.joined(separator: " ")
            row("closed by hub", "\(Format.count(unexpectedCloses))  codes: \(codes.isEmpty ? "none" : codes)")
        }
        let latencies = [
            ("delivery", deliveryLatency), ("publish→ack", ackLatency), ("connect", connectLatency), ("join", joinLatency),
        ].filter { $0.1.count > 0 }
        if !latencies.isEmpty {
            lines.append("")
            lines.append("  latency (ms)         count      p50      p90      p99    p99.9      max")
            for (name, summary) in latencies {
                let cells = [summary.p50, summary.p90, summary.p99, summary.p999, summary.max].map {
                    Format.millis($0).leftPadded(to: 9)
                }
                lines.append(
                    "    " + name.padding(toLength: 14, withPad: " ", startingAt: 0)
                        + Format.count(summary.count).leftPadded(to: 11) + cells.joined())
            }
        }
        lines.append("")
        row("client CPU", cpuText(clientCPU) + "  (\(clientThreads) thread\(clientThreads == 1 ? "" : "s"))")
        if let server {
            var text = ""
            if let before = server.rssBeforeKB, let after = server.rssAfterKB {
                text += "RSS \(Format.count(before / 1024)) MiB → \(Format.count(after / 1024)) MiB"
            }
            if let perConnection = server.bytesPerConnection {
                text += "  = \(Format.count(Int(perConnection.rounded()))) bytes per connection"
            }
            if let cpu = server.cpu { text += (text.isEmpty ? "" : "; ") + "CPU " + cpuText(cpu) }
            row("hub (pid \(server.pid))", text)
        }
        for note in notes { lines.append("  note: \(note)") }
        return lines.joined(separator: "\n")
    }

    private var parameterLine: String {
        let c = configuration
        switch c.scenario {
        case .fanout, .groups, .publish:
            return "subscribers \(Format.count(c.subscribers))  publishers \(Format.count(c.publishers))  "
                + "rate \(c.rate > 0 ? Format.rate(c.rate) + "/s" : "as fast as acked")  body \(c.bodyBytes) B  "
                + "channels \(c.channels)  in-flight \(c.effectiveInFlight)"
                + (c.messages.map { "  messages \(Format.count($0))" } ?? "")
                + "  duration \(Format.seconds(c.duration))  warm-up \(Format.seconds(c.warmup))"
        case .idle:
            return "connections \(Format.count(c.connections))  channels \(c.channels)  hold \(Format.seconds(c.duration))"
        case .churn:
            return "churn \(Format.rate(c.churnRate))/s  hold \(Format.seconds(c.hold))  watchers \(c.subscribers)  "
                + "duration \(Format.seconds(c.duration))"
        }
    }

    private func cpuText(_ cpu: CPUUsage) -> String {
        "user \(Format.seconds(cpu.user))  sys \(Format.seconds(cpu.system))  = "
            + "\(Int(cpu.percentOfOneCore.rounded()))% of one core over \(Format.seconds(cpu.wall))"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
