import DugnadProtocol
import NIOCore

/// The directory's commands: `channels` (a page of the channels the caller may find) and
/// `describe` (a channel's description). The rules are the hub's, shared with the HTTP API.
extension Session {
    /// The page is bounded in bytes like every reply: entries that do not fit are left to
    /// the next page (`has_more`), which starts after the last one sent.
    func channels(_ query: DirectoryQuery, ref: JSONValue?) {
        let maxBytes = hub.configuration.maxReplyBytes
        let page = hub.channelDirectory(query, by: principal, on: loop).map { page in
            let fitted = ReplyBound.fit(page.entries, maxBytes: maxBytes)
            return (entries: fitted.entries, hasMore: page.hasMore || fitted.trimmed)
        }
        respond(ref, page) { writer, page in
            EventEncoding.writeDirectoryPage(page.entries, hasMore: page.hasMore, into: &writer)
        }
    }

    func describe(_ channel: String, description: String?, ref: JSONValue?) {
        let promise = loop.makePromise(of: ChannelRecord.self)
        promise.completeWithTask { [hub, principal] in
            try await hub.describeChannel(channel, description: description, by: principal)
        }
        respond(ref, promise.futureResult) { writer, record in
            EventEncoding.writeDescribedChannel(record, into: &writer)
        }
    }
}
