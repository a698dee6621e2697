import DugnadProtocol

/// Settings of the hub's behaviour. Defaults are safe for a public deployment; benchmarks
/// lift the rate limits explicitly (see docs/benchmarks.md).
public struct HubConfiguration: Sendable {
    /// Frame and field size limits. Default: the contract's (64 KiB frames, 16 KiB bodies).
    public var limits = Limits()
    /// Joining an unknown public channel creates it. Default true, as the contract says;
    /// never for a name in the joiner's `channels` claim, for an admin (admins create
    /// explicitly) or for a reserved name. `--no-auto-create` turns it off.
    public var autoCreatePublicChannels = true
    /// Names (`*` for any run of characters) a `join` never creates: an admin creates them.
    /// Default none (`--reserved-channel`, repeatable).
    public var reservedChannels = ReservedChannelNames()
    /// Whether admins may join and read direct channels (as visible members: nobody reads
    /// one unseen). Default false: a direct channel is its people's alone
    /// (`--admins-read-direct`). Nobody may ever be granted into one.
    public var adminsReadDirect = false
    /// Public channels every person is a member of from their first connection; the hub
    /// creates those missing when it starts. Default none here; `dugnad serve` defaults to
    /// `general` (`--default-channel`, repeatable; `--no-default-channel` for none).
    public var defaultChannels: [String] = []
    /// Public channels one user's joins may create in 24 hours. Default 20 (`--channel-creation-limit`).
    public var channelCreationsPerDay = 20
    /// Above this many users online in a channel, presence is sent as counts only. Default 1,000.
    public var presenceListLimit = 1_000
    /// Publishes per second per user (all of the user's connections on this node
    /// together), sustained. Default 20.
    public var publishRate: Double = 20
    /// Publishes a user may send in a burst. Default 40.
    public var publishBurst: Double = 40
    /// Any commands per second per user (floods of cheap commands). Default 100.
    public var commandRate: Double = 100
    /// Default 200: room for a few tabs that each rejoin their channels at once.
    public var commandBurst: Double = 200
    /// `search` per user per second (WebSocket and HTTP together), sustained. Default 5: a
    /// search of a common word costs up to about 50 ms of a read thread (docs/benchmarks.md).
    public var searchRate: Double = 5
    /// Searches a user may send at once. Default 10: a search box that asks as the person
    /// types.
    public var searchBurst: Double = 10
    /// `announce` and `remind` per user per minute (and the burst). Default 10.
    public var announcesPerMinute: Double = 10
    /// At most one `typing` event per user per channel this often reaches anyone. Default
    /// 2,000 ms (contract §9).
    public var typingIntervalMillis: Int64 = 2_000
    /// A `remind` of an announcement is refused (`rate_limited`) this soon after the last
    /// one. Default 5 minutes (`--remind-interval`).
    public var remindIntervalMillis: Int64 = 5 * 60 * 1000
    /// How long after sending it an author may `edit` a message (`--edit-window`); 0 turns
    /// editing off. Default 24 hours: long enough to fix a typo or a wrong time the same
    /// day, short enough that what people read last week stays what was said. Deleting
    /// has no window.
    public var editWindowMillis: Int64 = 24 * 60 * 60 * 1000
    /// How often the hub reads the audit log for admin actions taken elsewhere (another
    /// node, the CLI) and applies them to open connections. Default 500 ms: a removal or a
    /// ban takes effect within a second everywhere.
    public var governanceCheckMillis: Int64 = 500
    /// Most bytes of messages in one reply (a history page, a join's recovery). Default
    /// 256 KiB; the server lowers it to half a connection's outbound limit if that is
    /// smaller, so that no reply alone can overflow a connection (`ReplyBound`).
    public var maxReplyBytes = 256 * 1024
    /// Most channels the hub keeps in its cache. Default 10,000; beyond it the cache starts
    /// over (a miss is one indexed read).
    public var maxCachedChannels = 10_000
    /// Consecutive rate-limited requests after which the connection is closed with 4029. Default 20.
    public var rateLimitStrikes = 20
    /// How often open sessions are marked alive in storage, in seconds. Default 15.
    public var sessionHeartbeatSeconds: Int64 = 15
    /// Presence diffs are coalesced for this long, in milliseconds. Default 100 (the contract's maximum rate).
    public var presenceFlushMillis: Int64 = 100
    /// Presence deliveries a second that flushes may average (`PresencePacer`): a flush
    /// whose diffs reach more members waits, and coalesces, until this rate has paid for
    /// it. Default 20,000: a 10,000-member channel gets a diff at most every 500 ms, a
    /// channel of 2,000 or fewer on every tick (measured: docs/benchmarks.md, "The morning rush").
    public var presenceDeliveriesPerSecond = 20_000
    /// Connections opened in one second at or above which this node is in a rush (the
    /// morning, everyone at once), and presence flushes average at most
    /// `presenceRushDeliveriesPerSecond` until a second passes with fewer. Default 200 a
    /// second: 10,000 people arriving over half an hour are 6 a second.
    public var presenceRushOpeningsPerSecond = 200
    /// Default 2,000 (a tenth of `presenceDeliveriesPerSecond`): a 10,000-member channel
    /// gets a diff every 5 s during a rush, in which each arrival's `join` reply carries the
    /// channel's presence anyway; measured in docs/benchmarks.md, "The morning rush".
    public var presenceRushDeliveriesPerSecond = 2_000
    /// Fan-out flushes of one event loop at most once per this many milliseconds: what is
    /// delivered sooner after a flush waits for one flush at the end of the window, so
    /// that a connection gets several events in one write (one syscall, one TCP segment)
    /// instead of one write each. A delivery after a quiet window is flushed at once, so
    /// this adds latency only under load. 0 flushes every delivery at once. Default 0:
    /// measured, 20 ms lowers the p99 of fan-out to 1,000 at 80 % of the saturated rate
    /// by about a third but raises it for fan-out to 10,000 (docs/benchmarks.md).
    public var fanoutFlushWindowMillis: Int64 = 0
    /// New publishes are answered `rate_limited` (with `retry_after_ms`) while an event
    /// loop's fan-out mailbox has waited longer than this, in milliseconds, or holds more
    /// than `fanoutMaxBacklogBytes`: publishers are slowed instead of every subscriber
    /// lagging by seconds. What was accepted is still delivered. 0 turns it off. Default 500.
    public var fanoutMaxLagMillis: Int64 = 500
    /// See `fanoutMaxLagMillis`. Default 32 MiB.
    public var fanoutMaxBacklogBytes = 32 * 1024 * 1024
    /// Deliveries (events × the connections on the loop that get them) a loop's mailbox may
    /// hold before publishes are slowed. A frame's bytes say little of its cost: a message
    /// to a channel of 100 costs a hundred writes. Measured (issue 14, groups overload),
    /// with only the time bound a loop accepted 18,000 publishes in half a second (their
    /// publishers' frames had waited in the sockets), 1.8 million deliveries, before the
    /// oldest of them had waited long enough to refuse anything. Default 500,000, about a
    /// second of one loop's deliveries on the bench machine: at 250,000 the groups
    /// overload's p99 lag was 0.9–2.1 s but a fan-out to 10,000 at 60 msg/s, within the
    /// loop's means, had 1–7 % of its publishes slowed (25 messages in flight reach it);
    /// at 500,000 none were, and the overload's p99 lag was 1.2–1.5 s with more accepted
    /// (5,100–5,700/s against 3,200–4,400/s). At 1,000,000 the lag passed 3 s and a
    /// publisher was closed with 4008 again. 0: no such bound.
    public var fanoutMaxBacklogDeliveries = 500_000
    /// Threads reading storage (history, joins, welcome). Default 2.
    public var readThreads = 2
    /// Urgent announcements that require an ack are re-sent to online users who have not
    /// acknowledged, this often. Default 10 minutes.
    public var urgentResendMillis: Int64 = 10 * 60 * 1000
    /// At most this many automatic re-sends per user and announcement. Default 6.
    public var urgentMaxResends = 6
    /// `announcement_stats` events are coalesced to at most one per announcement this often. Default 1 s.
    public var statsIntervalMillis: Int64 = 1000
    /// How often the hub looks for revoked API keys to close their connections. Default 1 s
    /// (keys may be revoked by `dugnad keys revoke` in another process).
    public var keyRevocationCheckMillis: Int64 = 1000
    /// HTTP API requests per second per API key. Default 50.
    public var apiKeyRate: Double = 50
    /// Default 50.
    public var apiKeyBurst: Double = 50
    /// Group commit settings of the single writer.
    public var writer = BatchingWriter.Configuration()

    public init() {}
}
