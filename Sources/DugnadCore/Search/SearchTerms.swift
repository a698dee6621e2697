import DugnadProtocol
import Foundation

/// The words of a search query, as both engines index words: runs of letters and decimal
/// digits, composed (NFC) and lower-cased by Unicode's rules ("ÅRSMØT" → "årsmøt"). Every
/// other character separates words, so nothing a person types can reach the engines'
/// query languages: quotes, `*`, `-`, `(`, `:` and `^` are separators, and `OR`, `AND`,
/// `NOT` and `NEAR` are words like any other.
///
/// Why letters and decimal digits only: SQLite's `unicode61` tokenizer keeps letters,
/// numbers and private-use characters in words, and the PostgreSQL index keeps what ICU
/// calls alphanumeric (letters and decimal digits). A query word made of what both keep
/// is a word in both indexes.
public struct SearchTerms: Sendable, Equatable {
    public struct Term: Sendable, Equatable {
        /// Folded: NFC, lower case.
        public var text: String
        /// Whether the term also finds longer words that begin with it. A single character
        /// finds whole words only: as a prefix it would match most of a year's messages.
        public var isPrefix: Bool
    }

    public var terms: [Term]

    /// At most this many distinct words: each is one more index lookup, and eight is more
    /// than anyone types into a search box.
    public static let maxTerms = 8

    /// The words of `text`, each once, in the order typed. Throws `bad_request` when there
    /// is none (only punctuation, symbols or spaces) or more than `maxTerms`.
    public static func parse(_ text: String) throws(ProtocolError) -> SearchTerms {
        var seen: Set<String> = []
        var terms: [Term] = []
        for word in words(in: fold(text)) where seen.insert(word).inserted {
            terms.append(Term(text: word, isPrefix: word.count > 1))
        }
        guard !terms.isEmpty else {
            throw .badRequest("'query' has no words to search for (letters or digits)")
        }
        guard terms.count <= maxTerms else {
            throw .badRequest("'query' may hold at most \(maxTerms) words")
        }
        return SearchTerms(terms: terms)
    }

    /// NFC, then Unicode lower case: "ÆØÅ" → "æøå", whatever the engine's locale.
    public static func fold(_ text: String) -> String {
        text.precomposedStringWithCanonicalMapping.lowercased()
    }

    /// Whether the scalar belongs to a word (a letter or a decimal digit).
    public static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber: true
        default: false
        }
    }

    /// The words of `text` in order (not folded).
    public static func words(in text: String) -> [String] {
        wordRanges(in: text).map { String(text.unicodeScalars[$0]) }
    }

    /// Where each word of `text` is.
    public static func wordRanges(in text: String) -> [Range<String.UnicodeScalarView.Index>] {
        let scalars = text.unicodeScalars
        var ranges: [Range<String.UnicodeScalarView.Index>] = []
        var start: String.UnicodeScalarView.Index?
        var index = scalars.startIndex
        while index != scalars.endIndex {
            if isWordScalar(scalars[index]) {
                if start == nil { start = index }
            } else if let begun = start {
                ranges.append(begun..<index)
                start = nil
            }
            index = scalars.index(after: index)
        }
        if let begun = start { ranges.append(begun..<scalars.endIndex) }
        return ranges
    }

    /// Whether a folded word of a message is found by one of the terms.
    public func matches(foldedWord word: String) -> Bool {
        terms.contains { term in term.isPrefix ? word.hasPrefix(term.text) : word == term.text }
    }

    // MARK: The engines' query languages

    /// An FTS5 query: every term as a quoted string (a `"` inside doubled, though a term
    /// holds none), prefix terms with `*`; terms side by side, which FTS5 reads as AND.
    public var fts5Query: String {
        terms.map { term in
            "\"" + term.text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" + (term.isPrefix ? "*" : "")
        }.joined(separator: " ")
    }

    /// A PostgreSQL `tsquery` for `to_tsquery('simple', …)`: every term as a quoted lexeme
    /// (`'` and `\` escaped, though a term holds neither), prefix terms with `:*`, joined
    /// with `&`.
    public var tsQuery: String {
        terms.map { term in
            let quoted = term.text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''")
            return "'" + quoted + "'" + (term.isPrefix ? ":*" : "")
        }.joined(separator: " & ")
    }
}
