import DugnadCore
import Foundation
import SwiftCSV

/// The people directory as spreadsheets save it, read for `dugnad users import`.
///
/// SwiftCSV splits the text into records and fields: quoted fields holding the separator,
/// `""` and line breaks, CRLF line endings, a leading byte-order mark (dropped by
/// `CSV(string:delimiter:)`), and the separator guessed from the first line
/// (`CSVDelimiter.guessed`: the first `,`, `;` or tab outside quotes). What an import needs
/// beyond that is here:
/// - the bytes must be UTF-8 (the library takes a `String`); else the first bad byte's line;
/// - every record's line in the file, which the library does not report: counted from the
///   line breaks inside its fields, so that each refusal names a line;
/// - rows as they are (`rows` pads short rows with empty fields, which would hide a
///   missing column), so they are read with `enumerateAsArray`;
/// - the empty last field of a last line without a line break (which the library drops),
///   and a quote that is never closed (which the library lets take in the rest of the file);
/// - blank lines, the optional header, the roles inside their field;
/// - each user checked by `UserDirectory.record(id:name:roles:)`, as the JSON import is.
enum UserCSV {
    /// The columns, in the order of a file without a header.
    enum Column: String, CaseIterable {
        case id, name, roles
    }

    /// Why a file was refused: one problem per bad line, each naming the line. All lines
    /// are checked before anything is written, so a refused file imports nothing.
    struct Refusal: Error, CustomStringConvertible {
        /// Most problems listed; the rest are counted. Default 20: a screenful.
        static let maxListed = 20

        var problems: [String]

        init(_ problem: String) { problems = [problem] }
        init(problems: [String]) { self.problems = problems }

        var description: String {
            var lines = Array(problems.prefix(Self.maxListed))
            if problems.count > Self.maxListed { lines.append("… and \(problems.count - Self.maxListed) more") }
            return lines.joined(separator: "\n")
        }
    }

    /// One record of the file and the line it starts on (1-based).
    struct Row {
        var line: Int
        var fields: [String]

        var isBlank: Bool { fields.allSatisfy { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } }
    }

    /// The users in a CSV file's bytes. Refused with every bad row, or with the first
    /// problem of the file as a whole (not UTF-8, a quote, the header), after which its rows
    /// cannot be trusted.
    static func users(from data: Data) throws(Refusal) -> [UserRecord] {
        let (delimiter, allRows) = try rows(of: try text(from: data))
        var rows = allRows.filter { !$0.isBlank }[...]
        guard let first = rows.first else { throw Refusal("the file holds no users") }
        var columns: [Column?] = Column.allCases
        if let header = try header(first) {
            columns = header
            rows = rows.dropFirst()
            guard !rows.isEmpty else { throw Refusal("the file holds a header (line \(first.line)) but no users") }
        }
        var users: [UserRecord] = []
        var problems: [String] = []
        var lineOfID: [String: Int] = [:]
        for row in rows {
            do {
                let user = try user(from: row, columns: columns, delimiter: delimiter)
                if let earlier = lineOfID[user.id] {
                    problems.append("line \(row.line): id '\(user.id)' is on line \(earlier) too")
                    continue
                }
                lineOfID[user.id] = row.line
                users.append(user)
            } catch {
                problems += error.problems
            }
        }
        guard problems.isEmpty else { throw Refusal(problems: problems) }
        guard users.count <= UserDirectory.maxUsers else {
            throw Refusal("the file holds \(users.count) users; at most \(UserDirectory.maxUsers) per import")
        }
        return users
    }

    /// The bytes as text; a refusal names the line of the first byte that is not UTF-8.
    static func text(from data: Data) throws(Refusal) -> String {
        if let text = String(validating: data, as: UTF8.self) { return text }
        let bytes = [UInt8](data)
        let advice = "save it from Excel as \"CSV UTF-8\""
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            throw Refusal("the file is UTF-16 text (Excel's \"Unicode Text\"), not UTF-8: \(advice)")
        }
        if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            throw Refusal("the file is a zip archive such as an Excel workbook (.xlsx), not CSV: \(advice)")
        }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while case .valid(let scalar) = parser.parseScalar(from: &iterator) { offset += scalar.count }
        let line = 1 + bytes[..<offset].count(where: { $0 == UInt8(ascii: "\n") })
        let byte = offset < bytes.count ? " (byte 0x" + String(bytes[offset], radix: 16, uppercase: true) + ")" : ""
        throw Refusal(
            "line \(line) is not UTF-8 text\(byte): \(advice) (plain \"CSV\" writes æ, ø and å in another encoding)")
    }

    /// Every record of `text`, blank ones included, with the separator the first line uses.
    static func rows(of text: String) throws(Refusal) -> (delimiter: CSVDelimiter, rows: [Row]) {
        // A last line without a line break loses an empty last field in SwiftCSV ("u1,Kari,"
        // reads as two fields); with one, it keeps it.
        let text = text.last.map(isLineBreak) == false ? text + "\n" : text
        let delimiter = CSVDelimiter.guessed(string: text)
        var rows: [Row] = []
        var line = 1
        do {
            // rowLimit 0: the initializer reads only the first record (as its header); every
            // record is then read once, unpadded, by enumerateAsArray.
            let csv = try EnumeratedCSV(string: text, delimiter: delimiter, loadColumns: false, rowLimit: 0)
            try csv.enumerateAsArray(startAt: 0, rowLimit: nil) { fields in
                rows.append(Row(line: line, fields: fields))
                line += 1 + fields.reduce(0) { $0 + $1.count(where: isLineBreak) }
            }
        } catch {
            // The library stops at the record that does not parse: the one after the last it gave.
            throw Refusal(
                "line \(line): a quote in the middle of a field, or text after a closing quote; quote the whole"
                    + " field and double the quotes inside it (\"Kari \"\"K\"\" Nordmann\") (\(error))")
        }
        // Every quote opens, closes or is doubled, so a well-formed file has an even number of
        // them; with an odd number, the last record's open quote swallowed the rest of the file.
        if text.utf8.count(where: { $0 == UInt8(ascii: "\"") }) % 2 == 1 {
            throw Refusal(
                "line \(rows.last?.line ?? 1): a quoted field is never closed (a \" is missing), so it would run to"
                    + " the end of the file")
        }
        return (delimiter, rows)
    }

    /// The columns a header names, or nil when `row` is no header (it names no column: it is
    /// the first user). Empty header cells are columns to ignore.
    static func header(_ row: Row) throws(Refusal) -> [Column?]? {
        let names = row.fields.map { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }
        guard names.contains(where: { Column(rawValue: $0) != nil }) else { return nil }
        let known = Column.allCases.map(\.rawValue).joined(separator: ", ")
        var columns: [Column?] = []
        for name in names {
            if name.isEmpty {
                columns.append(nil)
                continue
            }
            guard let column = Column(rawValue: name) else {
                throw Refusal("line \(row.line): the header names a column '\(name)'; the columns are \(known)")
            }
            guard !columns.contains(column) else {
                throw Refusal("line \(row.line): the header names the column '\(name)' twice")
            }
            columns.append(column)
        }
        guard columns.contains(.id) else { throw Refusal("line \(row.line): the header has no id column") }
        return columns
    }

    /// The user on `row`, checked as the JSON import checks its users.
    static func user(from row: Row, columns: [Column?], delimiter: CSVDelimiter) throws(Refusal) -> UserRecord {
        let names = columns.compactMap { $0?.rawValue }.joined(separator: ", ")
        let expected = (columns.lastIndex(where: { $0 != nil }) ?? 0) + 1
        guard row.fields.count >= expected else {
            var problem = "line \(row.line): \(row.fields.count) of \(expected) fields (\(names))"
            if row.fields.count == 1 {
                problem += "; the fields are separated by '\(delimiter.rawValue)' (as on the file's first line)"
            }
            throw Refusal(problem)
        }
        let extra = row.fields.dropFirst(columns.count)
        guard extra.allSatisfy({ $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) else {
            var problem = "line \(row.line): \(row.fields.count) fields where \(columns.count) are expected (\(names))"
            if columns.contains(.roles), roleSeparators.contains(delimiter.rawValue) {
                problem +=
                    "; with '\(delimiter.rawValue)' between fields, separate roles with spaces, or quote the field"
                    + " (\"leader\(delimiter.rawValue)member\")"
            }
            throw Refusal(problem)
        }
        func field(_ column: Column) -> String? { columns.firstIndex(of: column).map { row.fields[$0] } }
        let id = field(.id)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let name = field(.name).map(cleanName)
        let roles = field(.roles).map(roleList) ?? []
        do {
            return try UserDirectory.record(id: id, name: name, roles: roles)
        } catch {
            throw Refusal("line \(row.line): \(error.message)")
        }
    }

    /// What separates roles inside their field, besides white space.
    static let roleSeparators: Set<Character> = [";", ",", "|"]

    /// `leader member`, `leader;member`, `Leader, member`, `leader|member`: each role once, in order.
    static func roleList(_ field: String) -> [String] {
        var roles: [String] = []
        for role in field.lowercased().split(whereSeparator: { roleSeparators.contains($0) || $0.isWhitespace })
        where !roles.contains(String(role)) {
            roles.append(String(role))
        }
        return roles
    }

    /// Trimmed, and a line break inside (Alt+Enter in an Excel cell) is "\n" whatever the
    /// file's line endings, so that the same name reads the same from a Windows file.
    static func cleanName(_ field: String) -> String {
        String(field.trimmingCharacters(in: .whitespacesAndNewlines).map { isLineBreak($0) ? "\n" : $0 })
    }

    /// The line breaks SwiftCSV ends a record on.
    static func isLineBreak(_ character: Character) -> Bool {
        character == "\n" || character == "\r\n" || character == "\r"
    }
}
