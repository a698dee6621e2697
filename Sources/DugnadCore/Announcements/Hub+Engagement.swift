import DugnadProtocol
import NIOCore

extension Hub {
    /// The engagement figures of the last `days` for leaders and admins, showing only what
    /// the caller may know: admins everything; a leader the public and announce channels
    /// and the private ones it may read, and the announcements it posted or whose audience
    /// it could read (everyone, or such channels). Nothing about a private channel reaches
    /// someone outside it.
    public func engagement(days: Int, by principal: Principal, on loop: any EventLoop) -> EventLoopFuture<EngagementStats> {
        guard principal.isLeader || principal.isAdmin else {
            return loop.makeFailedFuture(ProtocolError.forbidden("only leaders and admins can see engagement figures"))
        }
        let adminsReadDirect = self.adminsReadDirect
        return read(on: loop) { store in
            var stats = try store.engagement(days: days, now: WallClock.nowMillis())
            if principal.isAdmin {
                // A direct channel is its people's: admins see its figures only where the
                // deployment lets them read it.
                guard !adminsReadDirect else { return stats }
                let direct = Set(try store.allChannels().filter { $0.kind == .direct }.map(\.name))
                stats.channels = stats.channels.filter { !direct.contains($0.channel) }
                return stats
            }
            let privateAccess = Set(
                try store.memberships(userID: principal.userID)
                    .filter {
                        ChannelAccess.memberMayRead(
                            $0.channel, membership: $0.kind, principal: principal,
                            adminsReadDirect: adminsReadDirect)
                    }
                    .map(\.channel.name))
            let readable = Set(
                try store.allChannels().filter {
                    ($0.kind != .private && $0.kind != .direct) || privateAccess.contains($0.name)
                }.map(\.name))
            stats.channels = stats.channels.filter { readable.contains($0.channel) }
            stats.announcements = try stats.announcements.filter { figures in
                guard let record = try store.announcement(id: figures.id) else { return false }
                switch record.audience {
                case .all: return true
                case .channels(let names): return record.fromID == principal.userID || names.allSatisfy(readable.contains)
                }
            }
            return stats
        }
    }
}
