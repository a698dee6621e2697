import DugnadProtocol

extension BenchReport {
    /// The run as one JSON object (format version 1), for docs/benchmarks.md and for comparing runs.
    public func jsonString() -> String {
        var writer = JSONWriter(capacity: 2_048)
        let c = configuration
        writer.beginObject()
        writer.field("format", 1)
        writer.field("scenario", c.scenario.rawValue)
        writer.field("url", c.url)
        if !c.otherNodePorts.isEmpty { writer.field("node_urls", .array(c.nodeURLs.map(JSONValue.string))) }
        writer.field("server_version", serverVersion)
        writer.field("note", c.note)
        writer.key("parameters")
        writer.beginObject()
        switch c.scenario {
        case .fanout, .groups, .publish:
            writer.field("subscribers", c.subscribers)
            writer.field("publishers", c.publishers)
            writer.field("rate", c.rate)
            writer.field("messages", c.messages.map(Int64.init).map(JSONValue.int) ?? .null)
            writer.field("body_bytes", c.bodyBytes)
            writer.field("channels", c.channels)
            writer.field("in_flight", c.effectiveInFlight)
            writer.field("warmup_s", c.warmup)
        case .idle:
            writer.field("connections", c.connections)
            writer.field("channels", c.channels)
        case .churn:
            writer.field("watchers", c.subscribers)
            writer.field("churn_rate", c.churnRate)
            writer.field("hold_s", c.hold)
        }
        writer.field("duration_s", c.duration)
        writer.field("threads", c.threads)
        writer.endObject()

        writer.key("counts")
        writer.beginObject()
        writer.field("connections", connections)
        switch c.scenario {
        case .fanout, .groups, .publish:
            writer.field("messages_sent", messagesSent)
            writer.field("messages_acked", messagesAcked)
            writer.field("publish_rejected", publishRejected)
            writer.key("rejected_codes")
            writeCounts(rejectedCodes.map { ($0.key, $0.value) }, into: &writer)
            writer.field("unanswered", unanswered)
            writer.field("late_sends", lateSends)
            writer.field("deliveries_expected", deliveriesExpected)
            writer.field("deliveries", deliveries)
            writer.field("lost", lost)
            writer.field("duplicates", duplicates)
        case .idle:
            break
        case .churn:
            writer.field("churn_started", churnStarted)
            writer.field("churn_completed", churnCompleted)
            writer.field("churn_failed", churnFailed)
            writer.field("churn_skipped", churnSkipped)
            writer.field("presence_diffs", presenceDiffs)
        }
        writer.field("unexpected_closes", unexpectedCloses)
        writer.key("close_codes")
        writeCounts(closeCodes.map { (String($0.key), $0.value) }, into: &writer)
        writer.endObject()

        writer.key("rates")
        writer.beginObject()
        writer.field("window_s", Format.rounded(windowSeconds))
        switch c.scenario {
        case .fanout, .groups, .publish:
            writer.field("sent_per_s", Format.rounded(sentPerSecond, places: 1))
            writer.field("acked_per_s", Format.rounded(ackedPerSecond, places: 1))
            writer.field("deliveries_per_s", Format.rounded(deliveriesPerSecond, places: 1))
        case .idle:
            writer.field("setup_s", Format.rounded(setupSeconds))
            writer.field("connections_per_s", Format.rounded(connectionsPerSecond, places: 1))
        case .churn:
            writer.field("connections_per_s", Format.rounded(connectionsPerSecond, places: 1))
            writer.field("presence_diffs_per_s", Format.rounded(presenceDiffsPerSecond, places: 1))
        }
        writer.endObject()

        writer.key("latency_ms")
        writer.beginObject()
        for (name, summary) in [
            ("delivery", deliveryLatency), ("ack", ackLatency), ("connect", connectLatency), ("join", joinLatency),
        ] where summary.count > 0 {
            writer.key(name)
            writeLatency(summary, into: &writer)
        }
        writer.endObject()

        writer.key("client")
        writer.beginObject()
        writer.field("threads", clientThreads)
        writeCPU(clientCPU, into: &writer)
        writer.field("cpu_bound", clientWasBusy)
        writer.endObject()

        writer.key("server")
        if let server {
            writer.beginObject()
            writer.field("pid", Int(server.pid))
            writer.field("rss_before_kb", server.rssBeforeKB.map { JSONValue.int(Int64($0)) } ?? .null)
            writer.field("rss_after_kb", server.rssAfterKB.map { JSONValue.int(Int64($0)) } ?? .null)
            if let perConnection = server.bytesPerConnection {
                writer.field("bytes_per_connection", Format.rounded(perConnection, places: 0))
            }
            if let cpu = server.cpu { writeCPU(cpu, into: &writer) }
            writer.endObject()
        } else {
            writer.null()
        }
        writer.field("clean", isClean)
        writer.key("notes")
        writer.beginArray()
        for note in notes { writer.string(note) }
        writer.endArray()
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private func writeCounts(_ counts: [(String, Int)], into writer: inout JSONWriter) {
        writer.beginObject()
        for (key, value) in counts.sorted(by: { $0.0 < $1.0 }) { writer.field(key, value) }
        writer.endObject()
    }

    private func writeLatency(_ summary: LatencySummary, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("count", summary.count)
        writer.field("p50", Format.rounded(summary.p50))
        writer.field("p90", Format.rounded(summary.p90))
        writer.field("p99", Format.rounded(summary.p99))
        writer.field("p99_9", Format.rounded(summary.p999))
        writer.field("max", Format.rounded(summary.max))
        writer.field("mean", Format.rounded(summary.mean))
        writer.endObject()
    }

    private func writeCPU(_ cpu: CPUUsage, into writer: inout JSONWriter) {
        writer.field("cpu_user_s", Format.rounded(cpu.user))
        writer.field("cpu_sys_s", Format.rounded(cpu.system))
        writer.field("cpu_wall_s", Format.rounded(cpu.wall))
        writer.field("cpu_percent_of_one_core", Format.rounded(cpu.percentOfOneCore, places: 1))
    }
}
