import DugnadProtocol
import NIOCore

/// Announcements: `announce`, `ack`, `announcement_stats` and `remind`. The rules (who may
/// announce, who may see figures) are the hub's, shared with the HTTP API.
extension Session {
    func announce(_ request: AnnounceRequest, ref: JSONValue?, ticket: WriteTicket) {
        respond(ref, hub.announce(request, by: principal, on: loop, ticket: ticket), ticket: ticket) { writer, result in
            EventEncoding.writeAnnounced(result.announcement, into: &writer)
        }
    }

    func acknowledge(_ announcementID: String, kind: AckKind, ref: JSONValue?, ticket: WriteTicket) {
        respondEmpty(
            ref, hub.acknowledge(announcementID, kind: kind, by: principal, on: loop, ticket: ticket), ticket: ticket)
    }

    func announcements(_ query: AnnouncementsQuery, ref: JSONValue?) {
        respond(ref, hub.announcements(query, by: principal, on: loop)) { writer, page in
            EventEncoding.writeAnnouncementPage(page, into: &writer)
        }
    }

    func announcementStats(_ announcementID: String, ref: JSONValue?) {
        respond(ref, hub.announcementStats(announcementID, by: principal, on: loop)) { writer, result in
            EventEncoding.writeAnnouncementStats(id: announcementID, stats: result.stats, into: &writer)
        }
    }

    func remind(_ announcementID: String, ref: JSONValue?, ticket: WriteTicket) {
        respond(ref, hub.remind(announcementID, by: principal, on: loop, ticket: ticket), ticket: ticket) { writer, count in
            EventEncoding.writeReminded(count: count, into: &writer)
        }
    }
}
