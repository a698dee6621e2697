/// A session that a node left open when it stopped (crash, kill, lost network), closed
/// by another node, or by the same node at its next start.
public struct AbandonedSession: Sendable, Equatable {
    public var sessionID: String
    public var userID: String
    /// The node that held the connection.
    public var nodeID: String
    /// When it was closed: the last time it was known alive (its last heartbeat).
    public var closedAt: Int64

    public init(sessionID: String, userID: String, nodeID: String, closedAt: Int64) {
        self.sessionID = sessionID
        self.userID = userID
        self.nodeID = nodeID
        self.closedAt = closedAt
    }
}
