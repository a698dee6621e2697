/// CPU time spent over a stretch of wall-clock time.
public struct CPUUsage: Sendable, Equatable {
    /// Seconds in user mode.
    public var user: Double
    /// Seconds in the kernel (for a network client, mostly socket system calls).
    public var system: Double
    /// Wall-clock seconds the times were taken over.
    public var wall: Double

    public init(user: Double, system: Double, wall: Double) {
        self.user = user
        self.system = system
        self.wall = wall
    }

    /// CPU in percent of one core (200 means two cores busy).
    public var percentOfOneCore: Double {
        wall > 0 ? (user + system) / wall * 100 : 0
    }

    init(_ time: ProcessProbe.CPUTime, wall: Double) {
        self.init(user: time.user, system: time.system, wall: wall)
    }
}
