import ArgumentParser
import DugnadCore
import DugnadProtocol

/// Checks of what an admin types, by the hub's own rules, so that the CLI refuses what the
/// HTTP API refuses (`APIRoute.checkPathParts`, `APIRouter.banReason`) and never stores what
/// the hub could not serve.
enum AdminInput {
    /// Longest ban reason, in characters, as `POST /api/v1/users/{id}/ban` takes it.
    static let maxReasonCharacters = 500

    static func checkChannelName(_ name: String) throws {
        guard ChannelName.isValid(name) else {
            throw ValidationError(
                "'\(shown(name))' is not a valid channel name: it must match ^[a-z0-9][a-z0-9._-]{0,63}$.")
        }
    }

    /// A person's id: 1 to `Limits.maxIDBytes` bytes, no U+0000, not a bot's (`bot:…`):
    /// the directory's rules (`UserDirectory.record`), which are also those of a token's `sub`.
    static func checkUserID(_ id: String) throws {
        guard !id.hasPrefix(APIKeys.botUserIDPrefix) else {
            throw ValidationError(
                "'\(shown(id))' is a bot's id: bots are API keys; revoke the key (dugnad keys revoke) instead.")
        }
        do {
            _ = try UserDirectory.record(id: id, name: nil, roles: [])
        } catch {
            throw ValidationError("'\(shown(id))' is not a valid user id: \(error.message).")
        }
    }

    /// At most `maxReasonCharacters` characters, without U+0000.
    static func checkReason(_ reason: String) throws {
        guard reason.count <= maxReasonCharacters else {
            throw ValidationError(
                "--reason is \(reason.count) characters; it may be at most \(maxReasonCharacters).")
        }
        guard !reason.utf8.contains(0) else { throw ValidationError("--reason must not contain U+0000.") }
    }

    /// What the admin typed, quoted in an error: cut, and with control characters escaped,
    /// so that the message stays one readable line.
    static func shown(_ text: String) -> String {
        let cut = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return tableCell(cut)
    }
}

/// `text` as one cell of a tab-separated listing: tabs, line breaks and other control
/// characters escaped (`\t`, `\n`, `\u{1b}`), so that every row stays one line of its
/// columns whatever a name holds (a CSV import keeps line breaks in quoted names).
func tableCell(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
    var cell = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\t": cell += "\\t"
        case "\n": cell += "\\n"
        case "\r": cell += "\\r"
        case _ where scalar.properties.generalCategory == .control:
            cell += "\\u{" + String(scalar.value, radix: 16) + "}"
        default: cell.unicodeScalars.append(scalar)
        }
    }
    return cell
}
