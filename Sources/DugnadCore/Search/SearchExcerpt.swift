/// The part of a message's body that a search result shows: plain text around the first
/// word the query found, with the found words marked by ranges rather than by markup, so
/// that a client renders it as text (no HTML from a body can ever run) and wraps each range
/// in its own highlight element.
///
/// Made here, in Swift, from the body and the query's terms, not by the engines
/// (`snippet()`, `ts_headline`): both engines then give the same excerpt, and no marker
/// characters need escaping, since a body may hold any character.
public struct SearchExcerpt: Sendable, Equatable {
    /// The excerpt: runs of white space (new lines too) as one space, "…" where the body
    /// was cut.
    public var text: String
    /// The found words, as `[start, end)` offsets in UTF-16 code units (JavaScript's string
    /// indexes) into `text`, ascending and not overlapping.
    public var marks: [Range<Int>]

    public init(text: String, marks: [Range<Int>]) {
        self.text = text
        self.marks = marks
    }

    /// Characters (Unicode scalars) of the body kept before the first found word.
    public static let leadCharacters = 60
    /// Characters (Unicode scalars) of the body in an excerpt, at most (the "…" not counted).
    public static let maxCharacters = 200

    /// The excerpt of `body` for `terms`. A body in which no word is found (the engine's
    /// tokenizer and this one may disagree on a rare character) gives its beginning,
    /// unmarked.
    public static func make(body: String, terms: SearchTerms) -> SearchExcerpt {
        let scalars = body.unicodeScalars
        let found = SearchTerms.wordRanges(in: body).filter { range in
            terms.matches(foldedWord: SearchTerms.fold(String(scalars[range])))
        }
        // Start a word or so before the first found word, at a word's beginning.
        var start = scalars.startIndex
        if let first = found.first {
            let lead = scalars.index(first.lowerBound, offsetBy: -leadCharacters, limitedBy: scalars.startIndex)
            if let lead {
                start = lead
                // Not from the middle of a word: from the end of the word cut.
                while start > scalars.startIndex, start < first.lowerBound,
                    SearchTerms.isWordScalar(scalars[scalars.index(before: start)])
                {
                    start = scalars.index(after: start)
                }
            }
        }
        var text = start > scalars.startIndex ? "…" : ""
        var utf16Count = text.utf16.count
        var marks: [Range<Int>] = []
        var pendingSpace = false
        var taken = 0
        var index = start
        var remaining = found.drop { $0.upperBound <= start }[...]
        while index < scalars.endIndex, taken < maxCharacters {
            let scalar = scalars[index]
            if scalar.properties.isWhitespace {
                pendingSpace = !text.isEmpty && text != "…"
                index = scalars.index(after: index)
                continue
            }
            if pendingSpace {
                text.unicodeScalars.append(" ")
                utf16Count += 1
                taken += 1
                pendingSpace = false
            }
            if let word = remaining.first, word.lowerBound == index {
                // A word longer than what is left of the excerpt is cut, and marked as far as it goes.
                let end =
                    scalars.index(index, offsetBy: maxCharacters - taken, limitedBy: word.upperBound) ?? word.upperBound
                let wordText = String(scalars[index..<end])
                let length = wordText.utf16.count
                marks.append(utf16Count..<(utf16Count + length))
                text += wordText
                utf16Count += length
                taken += wordText.unicodeScalars.count
                index = end
                remaining = remaining.dropFirst()
                continue
            }
            text.unicodeScalars.append(scalar)
            utf16Count += scalar.utf16.count
            taken += 1
            index = scalars.index(after: index)
        }
        if index < scalars.endIndex, scalars[index...].contains(where: { !$0.properties.isWhitespace }) {
            text += "…"
        }
        return SearchExcerpt(text: text, marks: marks)
    }
}
