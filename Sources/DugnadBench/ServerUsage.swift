/// What `/proc` said about the hub's process (only with `--server-pid`, on Linux).
public struct ServerUsage: Sendable, Equatable {
    public var pid: Int32
    /// VmRSS before the bench opened its connections, in KiB.
    public var rssBeforeKB: Int?
    /// VmRSS at the end of the measured part (idle: while holding every connection), in KiB.
    public var rssAfterKB: Int?
    /// The hub's CPU over the measured part.
    public var cpu: CPUUsage?
    /// Idle: (RSS after − RSS before) / connections, in bytes.
    public var bytesPerConnection: Double?

    public init(
        pid: Int32, rssBeforeKB: Int? = nil, rssAfterKB: Int? = nil, cpu: CPUUsage? = nil, bytesPerConnection: Double? = nil
    ) {
        self.pid = pid
        self.rssBeforeKB = rssBeforeKB
        self.rssAfterKB = rssAfterKB
        self.cpu = cpu
        self.bytesPerConnection = bytesPerConnection
    }
}
