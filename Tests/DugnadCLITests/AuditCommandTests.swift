import DugnadCore
import DugnadProtocol
import Foundation
import Testing

/// Every admin action of the CLI is in the audit log, with the entry its HTTP twin writes
/// (actor `cli`); `dugnad audit` shows the log newest first, as text or JSON lines.
@Suite struct AuditCommandTests {
    @Test func channelsCreateIsAuditedWithItsKindAndTitle() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let outcome = try await command.admin("channels", "create", "all-staff", "--kind", "announce", "--title", "Alle ansatte")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let untitled = try await command.admin("channels", "create", "general")
        #expect(untitled.status == 0, "\(untitled.stderr)")

        let entries = try command.auditLog()
        #expect(entries.map(\.action) == ["channel.created", "channel.created"])
        #expect(entries.map(\.target) == ["general", "all-staff"])
        #expect(entries.allSatisfy { $0.actor == "cli" })
        #expect(
            entries.map(\.detailJSON) == [
                #"{"kind":"public","title":"general"}"#, #"{"kind":"announce","title":"Alle ansatte"}"#,
            ])
    }

    @Test func creatingAChannelThatExistsFailsAndIsNotAudited() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        #expect(try await command.admin("channels", "create", "board", "--kind", "private").status == 0)
        let again = try await command.admin("channels", "create", "board")
        #expect(again.exited && again.status == 1)
        #expect(again.stderr.contains("channel 'board' exists already (private)"), "\(again.stderr)")
        #expect(try command.auditLog().count == 1)
        #expect(try command.inspect { try $0.channel(named: "board")?.kind } == .private)
    }

    @Test func keysCreateAndRevokeAreAuditedByKeyIdWithoutTheKey() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let created = try await command.admin("keys", "create", "--name", "deploy-bot", "--scope", "publish,announce")
        #expect(created.status == 0, "\(created.stderr)")
        let key = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("dgn_"))
        let record = try #require(try command.inspect { try $0.apiKeys() }.first)

        let revoked = try await command.admin("keys", "revoke", "deploy-bot")
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(revoked.stdout == "revoked \(record.id) 'deploy-bot'\n")
        #expect(try command.inspect { try $0.apiKeys() }.first?.revokedAt != nil)

        let entries = try command.auditLog()
        #expect(entries.map(\.action) == ["key.revoked", "key.created"])
        #expect(entries.map(\.target) == [record.id, record.id])
        #expect(entries.allSatisfy { $0.actor == "cli" })
        #expect(entries.last?.detailJSON == #"{"name":"deploy-bot","scopes":["announce","publish"]}"#)
        #expect(entries.first?.detail("name") == "deploy-bot")
        for entry in entries {
            #expect(!entry.detailJSON.contains(key) && !entry.detailJSON.contains(record.hash))
        }

        let unknown = try await command.admin("keys", "revoke", "deploy-bot")
        #expect(unknown.exited && unknown.status == 1)
        #expect(unknown.stderr.contains("no live key 'deploy-bot'"), "\(unknown.stderr)")
        #expect(try command.auditLog().count == 2)
    }

    @Test func keysRevokeByIdIsAuditedTheSame() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        #expect(try await command.admin("keys", "create", "--name", "reader", "--scope", "read").status == 0)
        let id = try #require(try command.inspect { try $0.apiKeys() }.first?.id)
        let revoked = try await command.admin("keys", "revoke", id)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        let entry = try #require(try command.auditLog().first)
        #expect(entry.action == "key.revoked")
        #expect(entry.target == id)
    }

    @Test func usersImportIsAuditedWithTheCount() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let outcome = try await command.importUsers(try command.file("people.csv", "u1,Kari,leader\nu2,Ola,\nu3,Per,\n"))
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let entries = try command.auditLog()
        #expect(entries.count == 1)
        #expect(entries.first?.action == "users.imported")
        #expect(entries.first?.actor == "cli")
        #expect(entries.first?.target == "directory")
        #expect(entries.first?.detailJSON == #"{"count":3}"#)
    }

    @Test func auditShowsTheLogNewestFirstOneLinePerEntry() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        #expect(try await command.admin("channels", "create", "board", "--kind", "private").status == 0)
        #expect(try await command.admin("channels", "add-member", "board", "kari").status == 0)
        #expect(try await command.admin("users", "ban", "ola", "--reason", "spam\tand\nmore").status == 0)

        let outcome = try await command.admin("audit")
        #expect(outcome.exited && outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.isEmpty)
        let lines = outcome.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(lines.count == 3)
        let rows = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.allSatisfy { $0.count == 5 }, "\(rows)")
        #expect(rows.map { $0[1] } == ["cli", "cli", "cli"])
        #expect(rows.map { $0[2] } == ["user.banned", "member.added", "channel.created"])
        #expect(rows.map { $0[3] } == ["ola", "board", "board"])
        #expect(
            rows.map { $0[4] } == [#"{"reason":"spam\tand\nmore"}"#, #"{"user":"kari"}"#, #"{"kind":"private","title":"board"}"#])
        let entries = try command.auditLog()
        for (row, entry) in zip(rows, entries) {
            #expect(row[0].hasSuffix("Z"))
            #expect(ISO8601DateFormatter().date(from: row[0]).map { Int64($0.timeIntervalSince1970) } == entry.at / 1000)
        }
    }

    @Test func auditJSONLinesCarryWhatTheHTTPAPIGives() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        #expect(try await command.admin("channels", "create", "board", "--kind", "private").status == 0)
        #expect(try await command.admin("channels", "add-member", "board", "kari").status == 0)

        let outcome = try await command.admin("audit", "--json")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        let values = try lines.map { try JSONParser.parse($0) }
        let entries = try command.auditLog()
        #expect(values.count == entries.count)
        for (value, entry) in zip(values, entries) {
            #expect(value["seq"]?.int64Value == entry.seq)
            #expect(value["id"]?.stringValue == entry.id)
            #expect(value["at"]?.int64Value == entry.at)
            #expect(value["actor"] == .string("cli"))
            #expect(value["action"]?.stringValue == entry.action)
            #expect(value["target"]?.stringValue == entry.target)
        }
        #expect(values.first?["detail"]?["user"] == .string("kari"))
        #expect(values.last?["detail"]?["kind"] == .string("private"))
    }

    @Test func auditPagesWithLimitAndBefore() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        for user in ["u1", "u2", "u3"] {
            #expect(try await command.admin("users", "ban", user).status == 0)
        }
        let entries = try command.auditLog()
        #expect(entries.map(\.target) == ["u3", "u2", "u1"])

        let first = try await command.admin("audit", "--limit", "2", "--json")
        #expect(first.status == 0, "\(first.stderr)")
        let firstTargets = try first.stdout.split(separator: "\n").map { try JSONParser.parse(String($0))["target"] }
        #expect(firstTargets == [.string("u3"), .string("u2")])
        #expect(first.stderr.contains("--before \(entries[1].seq)"), "\(first.stderr)")

        let rest = try await command.admin("audit", "--limit", "2", "--before", String(entries[1].seq))
        #expect(rest.status == 0, "\(rest.stderr)")
        #expect(rest.stdout.split(separator: "\n").map { $0.split(separator: "\t")[3] } == ["u1"])
        #expect(rest.stderr.isEmpty)
    }

    @Test func auditOfAnEmptyLogPrintsNothing() async throws {
        let command = try DugnadCommand()
        defer { command.removeFolder() }
        let outcome = try await command.admin("audit")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.isEmpty)
    }
}
