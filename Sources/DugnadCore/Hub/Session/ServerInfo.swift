/// Facts about the server that the welcome announces.
public struct ServerInfo: Sendable {
    public var version: String
    public var pingInterval: Int

    public init(version: String, pingInterval: Int) {
        self.version = version
        self.pingInterval = pingInterval
    }
}
