import DugnadProtocol
import Testing

@testable import DugnadCore

/// A query's words on their own: what is a word, how it is folded, what each engine is
/// handed, and which queries have no words.
@Suite struct SearchTermsTests {
    private func words(_ query: String) throws -> [String] {
        try SearchTerms.parse(query).terms.map(\.text)
    }

    @Test func wordsAreLettersAndDigitsFoldedByUnicode() throws {
        #expect(try words("ÅRSMØTET 2027") == ["årsmøtet", "2027"])
        #expect(try words("Æ/Ø/Å: dugnad.no, e-post_x") == ["æ", "ø", "å", "dugnad", "no", "e", "post", "x"])
        #expect(try words("kaffe KAFFE Kaffe") == ["kaffe"], "each word once")
        // A decomposed å (a + combining ring) is composed first, so it is the letter å.
        #expect(try words("A\u{030A}rsmøte") == ["årsmøte"])
        #expect(try words("Straße Ελλάδα Москва") == ["straße", "ελλάδα", "москва"])
    }

    @Test func oneCharacterIsAWholeWordAndLongerOnesArePrefixes() throws {
        let terms = try SearchTerms.parse("i møte").terms
        #expect(terms.map(\.isPrefix) == [false, true])
    }

    @Test func aQueryWithoutWordsOrWithTooManyIsABadRequest() {
        for query in ["\"", "*", "-", "---", "!!! ???", "   ", "\"*\"", "(+)", "🎉👍"] {
            #expect(throws: ProtocolError.self, "\(query)") { try SearchTerms.parse(query) }
        }
        #expect(throws: ProtocolError.badRequest("'query' may hold at most 8 words")) {
            try SearchTerms.parse("a b c d e f g h i")
        }
        #expect((try? SearchTerms.parse("a b c d e f g h a b")) != nil, "repeated words count once")
    }

    @Test func theEnginesAreHandedQuotedTermsOnly() throws {
        let terms = try SearchTerms.parse(#"årsmøt" OR i NEAR(x"#)
        #expect(terms.fts5Query == #""årsmøt"* "or"* "i" "near"* "x""#)
        #expect(terms.tsQuery == "'årsmøt':* & 'or':* & 'i' & 'near':* & 'x'")
    }

    @Test func aFoldedWordIsFoundByAPrefixOrByTheWholeWord() throws {
        let terms = try SearchTerms.parse("årsm i")
        #expect(terms.matches(foldedWord: "årsmøtet"))
        #expect(terms.matches(foldedWord: "i"))
        #expect(!terms.matches(foldedWord: "igjen"))
        #expect(!terms.matches(foldedWord: "arsmøtet"), "å is not a")
    }

    @Test func searchReadsWhatAJoinWouldLetTheCallerRead() {
        let board = ChannelRecord(name: "board", kind: .private, title: "Board", epoch: "e", lastSeq: 0, createdAt: 0)
        let news = ChannelRecord(name: "news", kind: .announce, title: "News", epoch: "e", lastSeq: 0, createdAt: 0)
        let ola = Principal(userID: "ola", name: "Ola", roles: [.member], channels: ["board"], expiresAt: nil)
        let admin = Principal(userID: "ada", name: "Ada", roles: [.admin], channels: [], expiresAt: nil)
        #expect(ChannelAccess.maySearch(news, membership: nil, principal: ola, adminsReadDirect: false), "every announce and public channel")
        #expect(!ChannelAccess.maySearch(board, membership: nil, principal: ola, adminsReadDirect: false), "a claim without a join is not enough")
        #expect(ChannelAccess.maySearch(board, membership: .joined, principal: ola, adminsReadDirect: false), "joined through the claim it holds")
        var lapsed = ola
        lapsed.channels = []
        #expect(!ChannelAccess.maySearch(board, membership: .joined, principal: lapsed, adminsReadDirect: false), "the claim is gone")
        #expect(ChannelAccess.maySearch(board, membership: .granted, principal: lapsed, adminsReadDirect: false), "a grant lasts")
        #expect(ChannelAccess.maySearch(board, membership: nil, principal: admin, adminsReadDirect: false))
        let reader = Principal(
            userID: "bot:k1", name: "k1", roles: [], channels: [], expiresAt: nil,
            kind: .bot(keyID: "k1", scopes: ["read"], channels: []))
        let writer = Principal(
            userID: "bot:k2", name: "k2", roles: [], channels: [], expiresAt: nil,
            kind: .bot(keyID: "k2", scopes: ["publish"], channels: ["board"]))
        #expect(ChannelAccess.maySearch(news, membership: nil, principal: reader, adminsReadDirect: false))
        #expect(!ChannelAccess.maySearch(board, membership: nil, principal: reader, adminsReadDirect: false), "a key not made for it")
        #expect(!ChannelAccess.maySearch(board, membership: nil, principal: writer, adminsReadDirect: false), "a key without read")
    }
}
