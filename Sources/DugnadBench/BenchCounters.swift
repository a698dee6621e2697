/// What one event loop's connections counted, and (merged over all loops) the run's totals;
/// the latencies are kept apart in ``BenchLatencies`` so that this stays cheap to copy once a
/// second. A plain value: each loop mutates its own copy inside ``LoopStats`` and the runner
/// merges copies, so nothing is shared between threads while the run is hot.
struct BenchCounters: Sendable {
    // Connections
    var connectionsReady = 0
    var connectFailures = 0
    /// Closes the bench did not ask for (server close frame or dropped TCP) after setup.
    var unexpectedCloses = 0
    /// Close codes received from the server, by code.
    var closeCodes: [Int: Int] = [:]
    /// Frames the scanner could not read where it expected fields, and framing violations.
    var unreadableFrames = 0
    var serverVersion: String?

    // Publishing
    var sent = 0
    var sentInWindow = 0
    var acked = 0
    var ackedInWindow = 0
    var rejected = 0
    var rejectedCodes: [String: Int] = [:]
    /// Acknowledged messages by channel index (what subscribers of each channel must receive).
    var ackedPerChannel: [Int] = []
    /// Open loop: messages sent over 100 ms after their time in the schedule (the client, the
    /// socket or the in-flight window held them back).
    var lateSends = 0
    var publishersFinished = 0
    var inFlight = 0

    // Receiving
    var delivered = 0
    var deliveredInWindow = 0
    var duplicates = 0
    var stale = 0
    var presenceDiffs = 0

    mutating func noteAcked(channel: Int) {
        acked += 1
        if channel >= ackedPerChannel.count {
            ackedPerChannel.append(contentsOf: repeatElement(0, count: channel + 1 - ackedPerChannel.count))
        }
        ackedPerChannel[channel] += 1
    }

    mutating func merge(_ other: BenchCounters) {
        connectionsReady += other.connectionsReady
        connectFailures += other.connectFailures
        unexpectedCloses += other.unexpectedCloses
        closeCodes.merge(other.closeCodes, uniquingKeysWith: +)
        unreadableFrames += other.unreadableFrames
        serverVersion = serverVersion ?? other.serverVersion
        sent += other.sent
        sentInWindow += other.sentInWindow
        acked += other.acked
        ackedInWindow += other.ackedInWindow
        rejected += other.rejected
        rejectedCodes.merge(other.rejectedCodes, uniquingKeysWith: +)
        if other.ackedPerChannel.count > ackedPerChannel.count {
            ackedPerChannel.append(contentsOf: repeatElement(0, count: other.ackedPerChannel.count - ackedPerChannel.count))
        }
        for (index, count) in other.ackedPerChannel.enumerated() { ackedPerChannel[index] += count }
        lateSends += other.lateSends
        publishersFinished += other.publishersFinished
        inFlight += other.inFlight
        delivered += other.delivered
        deliveredInWindow += other.deliveredInWindow
        duplicates += other.duplicates
        stale += other.stale
        presenceDiffs += other.presenceDiffs
    }
}
