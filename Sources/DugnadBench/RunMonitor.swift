import NIOCore

/// Keeps the run's phase and turns the fleet's counters into ``BenchProgress`` reports: on
/// every phase change and once a second. An actor because the scenario and the ticker both
/// touch it.
actor RunMonitor {
    private let scenario: BenchScenario
    private let fleet: ClientFleet
    private let callback: (@Sendable (BenchProgress) -> Void)?
    private let started = NIODeadline.now()
    private var phase = BenchPhase.connecting
    private var wanted = 0
    private var last: (time: NIODeadline, sent: Int, delivered: Int, cpu: ProcessProbe.CPUTime)

    init(scenario: BenchScenario, fleet: ClientFleet, callback: (@Sendable (BenchProgress) -> Void)?) {
        self.scenario = scenario
        self.fleet = fleet
        self.callback = callback
        last = (started, 0, 0, ProcessProbe.ownCPU())
    }

    /// Enters `phase` and reports at once.
    func enter(_ phase: BenchPhase, wanted: Int? = nil) async {
        self.phase = phase
        if let wanted { self.wanted = wanted }
        await report()
    }

    /// Reports once a second until cancelled.
    func tick() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if Task.isCancelled { return }
            await report()
        }
    }

    private func report() async {
        guard let callback else { return }
        let counters = await fleet.counters()
        let recent = await fleet.recentDelivery()
        let now = NIODeadline.now()
        let cpu = ProcessProbe.ownCPU()
        let interval = Double((now - last.time).nanoseconds) / 1e9
        func perSecond(_ delta: Int) -> Double { interval > 0.05 ? Double(delta) / interval : 0 }
        let progress = BenchProgress(
            scenario: scenario, phase: phase, elapsed: Double((now - started).nanoseconds) / 1e9,
            connectionsReady: counters.connectionsReady, connectionsWanted: wanted, sent: counters.sent,
            sentPerSecond: perSecond(counters.sent - last.sent), acked: counters.acked, delivered: counters.delivered,
            deliveredPerSecond: perSecond(counters.delivered - last.delivered), recentP99: recent.summary.p99,
            unexpectedCloses: counters.unexpectedCloses,
            clientCPUPercent: interval > 0.05 ? (cpu - last.cpu).total / interval * 100 : 0)
        last = (now, counters.sent, counters.delivered, cpu)
        callback(progress)
    }
}
