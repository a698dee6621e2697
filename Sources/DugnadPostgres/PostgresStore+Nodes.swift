import DugnadCore
import PostgresNIO

/// Nodes sharing the database: heartbeats, and the sessions of nodes that stopped.
extension PostgresStore {
    /// Closes the open sessions of every other node that has not been alive for
    /// `timeoutMillis` before `now` (no heartbeat of its own, and none of its sessions
    /// touched), each at the last time it was known alive, and moves the users'
    /// last_seen to that time; forgets those nodes. Returns the sessions closed, ordered
    /// by node, user and session, so that the caller (multi-node presence) can announce
    /// those users as offline where no other session keeps them online.
    ///
    /// Meant to run periodically on every node (each run is one short transaction; two
    /// nodes sweeping at once close each session once, the second finds it closed). A
    /// node that was only paused and comes back re-registers at its next heartbeat, but
    /// the sessions closed meanwhile stay closed: its clients' next close records
    /// last_seen as usual.
    public func closeSessionsOfDeadNodes(now: Int64, timeoutMillis: Int64) throws -> [AbandonedSession] {
        do {
            return try writer.withConnection { db in
                try inTransaction(db) {
                    try closeAbandonedSessions(db, now: now, timeoutMillis: timeoutMillis, includeOwn: false)
                }
            }
        } catch {
            throw PostgresFailure.unavailable(error, doing: "close the sessions of dead nodes")
        }
    }

    /// The ids of the nodes known alive at `now` (a heartbeat within `timeoutMillis`),
    /// this one included once it has started. For the multi-node presence work and tests.
    public func liveNodeIDs(now: Int64, timeoutMillis: Int64) throws -> [String] {
        try reading("read the live nodes") { db in
            try db.column(
                "SELECT id FROM nodes WHERE last_alive >= \(now - timeoutMillis) ORDER BY id", as: String.self)
        }
    }

    /// See `closeSessionsOfDeadNodes`; with `includeOwn`, this node's open sessions are
    /// closed too, whatever their age: at start-up they are leftovers of a previous run.
    func closeAbandonedSessions(_ db: BlockingConnection, now: Int64, timeoutMillis: Int64, includeOwn: Bool)
        throws -> [AbandonedSession]
    {
        let me = configuration.nodeID
        let cutoff = now - timeoutMillis
        // One statement: the sessions' UPDATE feeds the users' last_seen through the CTE. A
        // concurrent sweep waits for this one's row locks, then re-checks
        // `disconnected_at IS NULL` (READ COMMITTED): each session is closed and returned once.
        let rows = try db.rows(
            """
            WITH closed AS (
                UPDATE sessions s SET disconnected_at = s.last_alive
                WHERE s.disconnected_at IS NULL
                    AND (
                        (\(includeOwn) AND s.node_id = \(me))
                        OR (s.node_id <> \(me)
                            AND s.last_alive < \(cutoff)
                            AND coalesce((SELECT n.last_alive FROM nodes n WHERE n.id = s.node_id), 0) < \(cutoff)))
                RETURNING s.id, s.user_id, s.node_id, s.last_alive
            ), seen AS (
                UPDATE users u SET last_seen = greatest(coalesce(u.last_seen, 0), c.last_alive)
                FROM (SELECT user_id, max(last_alive) AS last_alive FROM closed GROUP BY user_id) c
                WHERE u.id = c.user_id
            )
            SELECT id, user_id, node_id, last_alive FROM closed ORDER BY node_id, user_id, id
            """)
        try db.query("DELETE FROM nodes WHERE id <> \(me) AND last_alive < \(cutoff)")
        return try rows.map { row in
            AbandonedSession(
                sessionID: try row.decode("id"), userID: try row.decode("user_id"), nodeID: try row.decode("node_id"),
                closedAt: try row.decode("last_alive"))
        }
    }

    /// Records node `nodeID` as alive at `at` (never moving its time back).
    static func registerNode(_ db: BlockingConnection, nodeID: String, at: Int64) throws {
        try db.query(
            """
            INSERT INTO nodes (id, started_at, last_alive) VALUES (\(nodeID), \(at), \(at))
            ON CONFLICT (id) DO UPDATE SET last_alive = greatest(nodes.last_alive, excluded.last_alive)
            """)
    }
}
