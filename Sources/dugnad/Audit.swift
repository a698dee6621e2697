import ArgumentParser
import DugnadCore
import DugnadProtocol
import Foundation

/// The CLI twin of `GET /api/v1/audit`: the admin actions that took effect, newest first.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit log, newest first: time (UTC), actor, action, target, detail.",
        discussion: """
            One line per entry, tab-separated; the detail is a JSON object. With --json, one JSON \
            object per line instead: {"seq","id","at" (ms since the epoch),"actor","action",\
            "target","detail"}, as GET /api/v1/audit gives them. When older entries follow, the \
            command for the next page is printed on standard error.

            Actors: a user id, bot:<key id>, or cli for this command line.

            Example: dugnad audit --limit 20
            """)

    /// Most entries on one page, as `GET /api/v1/audit` allows.
    static let maxLimit = 500

    @Option(help: "Most entries to show, 1 to \(Audit.maxLimit).")
    var limit = 100

    @Option(help: ArgumentHelp("Show the entries before this seq (the next, older page).", valueName: "seq"))
    var before: Int64?

    @Flag(help: "JSON lines instead of tab-separated text.")
    var json = false

    @OptionGroup var storage: StoreOptions

    func validate() throws {
        guard (1...Self.maxLimit).contains(limit) else { throw ValidationError("--limit must be 1 to \(Self.maxLimit).") }
        if let before, before < 1 { throw ValidationError("--before must be an entry's seq (1 or more).") }
    }

    func run() async throws {
        let page = try storage.openStore().auditPage(beforeSeq: before, limit: limit)
        for entry in page.entries {
            print(json ? Self.jsonLine(entry) : Self.textLine(entry))
        }
        if page.hasMore, let last = page.entries.last {
            FileHandle.standardError.write(Data("older entries follow: add --before \(last.seq) for the next page\n".utf8))
        }
    }

    static func textLine(_ entry: AuditEntry) -> String {
        [isoDate(entry.at), tableCell(entry.actor), tableCell(entry.action), tableCell(entry.target), entry.detailJSON]
            .joined(separator: "\t")
    }

    /// An entry as `GET /api/v1/audit` writes it (its detail as the JSON object it is).
    static func jsonLine(_ entry: AuditEntry) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("seq", entry.seq)
        writer.field("id", entry.id)
        writer.field("at", entry.at)
        writer.field("actor", entry.actor)
        writer.field("action", entry.action)
        writer.field("target", entry.target)
        writer.key("detail")
        writer.raw(entry.detailJSON)
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
