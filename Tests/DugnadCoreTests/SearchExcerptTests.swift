import Testing

@testable import DugnadCore

/// The excerpt of a found message: text around the first found word, found words marked
/// by UTF-16 ranges, white space collapsed, cuts shown.
@Suite struct SearchExcerptTests {
    private func excerpt(_ body: String, _ query: String) throws -> SearchExcerpt {
        SearchExcerpt.make(body: body, terms: try SearchTerms.parse(query))
    }

    /// The marked parts of the excerpt's text, read as JavaScript would slice them.
    private func marked(_ excerpt: SearchExcerpt) -> [String] {
        let units = Array(excerpt.text.utf16)
        return excerpt.marks.map { String(decoding: units[$0], as: UTF16.self) }
    }

    @Test func foundWordsAreMarkedWholeInAShortBody() throws {
        let found = try excerpt("Årsmøtet er torsdag.\n\nHusk årsmøtepapirene!", "årsmøt")
        #expect(found.text == "Årsmøtet er torsdag. Husk årsmøtepapirene!")
        #expect(marked(found) == ["Årsmøtet", "årsmøtepapirene"])
        #expect(found.marks.first == 0..<8)
    }

    @Test func marksCountUTF16CodeUnitsAsJavaScriptDoes() throws {
        let found = try excerpt("🎉🎉 kaffe", "kaffe")
        #expect(found.text == "🎉🎉 kaffe")
        #expect(found.marks == [5..<10], "each emoji is two UTF-16 code units")
    }

    @Test func aLongBodyIsCutAroundTheFirstFoundWord() throws {
        let before = (1...40).map { "ord\($0)" }.joined(separator: " ")
        let after = (1...80).map { "etter\($0)" }.joined(separator: " ")
        let found = try excerpt("\(before) Generalforsamlingen \(after)", "generalforsamling")
        #expect(found.text.hasPrefix("…"))
        #expect(found.text.hasSuffix("…"))
        #expect(!found.text.hasPrefix("… "), "no space after the cut mark")
        let words = found.text.dropFirst().split(separator: " ")
        #expect(words.first.map { $0.hasPrefix("ord") } == true, "it starts at a whole word")
        #expect(marked(found) == ["Generalforsamlingen"])
        #expect(found.text.unicodeScalars.count <= SearchExcerpt.maxCharacters + 2)
        let lead = found.text.distance(from: found.text.startIndex, to: found.text.range(of: "Generalforsamlingen")!.lowerBound)
        #expect(lead <= SearchExcerpt.leadCharacters + 1)
    }

    @Test func aWordLongerThanTheExcerptIsCutAndMarkedAsFarAsItGoes() throws {
        let found = try excerpt("kaffe" + String(repeating: "x", count: 500), "kaffe")
        #expect(found.marks == [0..<SearchExcerpt.maxCharacters])
        #expect(found.text.hasSuffix("…"))
    }

    @Test func aBodyWithoutAFoundWordShowsItsBeginningUnmarked() throws {
        let found = try excerpt("Ingenting her", "kaffe")
        #expect(found.text == "Ingenting her")
        #expect(found.marks.isEmpty)
    }

    @Test func markupInABodyIsPlainTextInTheExcerpt() throws {
        let found = try excerpt("<img src=x onerror=alert(1)> kaffe", "kaffe")
        #expect(found.text == "<img src=x onerror=alert(1)> kaffe", "the client inserts it as text")
        #expect(marked(found) == ["kaffe"])
    }
}
