/// Whether a peer is reading what the hub sends, from what the connection's channel holds
/// at two ping ticks. A ping the hub wrote sits behind everything written before it: a
/// client reading a backlog of fan-out cannot answer a ping it has not reached yet, and
/// under overload it was closed with 1001 while it read (the live overload test met it).
/// So a tick at which NIO held bytes back (the kernel's send buffer was full) and the
/// kernel has taken bytes since counts as an answer: the peer's window opened, it reads.
/// A peer that reads nothing lets no bytes through, and its pings count as before.
struct OutboundProgress {
    /// Bytes handed to the channel since the last tick.
    private(set) var enqueued = 0
    /// What NIO held, not yet taken by the kernel, at the last tick.
    private(set) var bufferedAtLastTick = 0

    mutating func noteEnqueued(_ bytes: Int) {
        enqueued &+= bytes
    }

    /// At a ping tick, with what NIO holds now: true when the peer took bytes that were
    /// waiting for it since the last tick.
    mutating func tick(bufferedNow: Int) -> Bool {
        let taken = enqueued + bufferedAtLastTick - bufferedNow
        let peerRead = bufferedAtLastTick > 0 && taken > 0
        enqueued = 0
        bufferedAtLastTick = bufferedNow
        return peerRead
    }
}
