import DugnadProtocol
import NIOCore

/// `direct`: the conversation of the caller and 1 to 8 others (the rules are the hub's,
/// `Hub.openDirect`), and the subscription its members' connections get.
extension Session {
    func direct(_ request: DirectRequest, ref: JSONValue?) {
        let promise = loop.makePromise(of: DirectChannel.self)
        promise.completeWithTask { [hub, principal] in try await hub.openDirect(request, by: principal) }
        let opened = promise.futureResult.assumeIsolated().map { direct in
            // A channel found again: this connection follows it too (one that was made was
            // subscribed already, with a `direct_channel` event).
            if !direct.created { self.followDirect(direct.channel) }
            return direct
        }.nonisolated()
        respond(ref, opened) { writer, direct in
            EventEncoding.writeDirect(
                direct.channel, members: direct.members.map { (id: $0.id, name: $0.name) }, into: &writer)
        }
    }

    /// A direct channel of this user was made: follow it and say so.
    func directOpened(_ channel: ChannelRecord, members: [(id: String, name: String)]) {
        guard !ended, let output, !joined.contains(channel.name) else { return }
        followDirect(channel)
        output.send(EventEncoding.directChannelEvent(channel, members: members))
    }

    /// Subscribes this connection to a direct channel of its user (at the welcome, when one
    /// is made, when `direct` finds one): nobody has to guess its name to be written to.
    func followDirect(_ channel: ChannelRecord) {
        guard !ended, !joined.contains(channel.name) else { return }
        subscribe(channel.name)
        hub.bus.subscribed(channel: channel.name, lastSeq: channel.lastSeq)
    }
}
