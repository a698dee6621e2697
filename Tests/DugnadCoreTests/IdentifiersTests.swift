import DugnadCore
import Testing

@Suite struct IdentifiersTests {
    @Test func messageIDsAreULIDsThatSortByTimeAndDoNotRepeat() {
        let alphabet = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = Identifiers.messageID(now: 1_800_000_000_000)
            #expect(id.hasPrefix("m_"))
            #expect(id.count == 28)
            #expect(id.dropFirst(2).allSatisfy { alphabet.contains($0) })
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
        // The random part uses the whole alphabet (no position stuck at one value).
        let randomParts = seen.map { Array($0.dropFirst(12)) }
        for position in 0..<16 {
            #expect(Set(randomParts.map { $0[position] }).count == 32, "position \(position) is not random")
        }
        #expect(Identifiers.messageID(now: 1_800_000_000_000) < Identifiers.messageID(now: 1_800_000_000_001))
        #expect(Identifiers.messageID(now: 1_800_000_000_999) < Identifiers.messageID(now: 1_800_000_001_000))
    }

    @Test func randomIdentifiersHaveTheirLengthAndVary() {
        let lower = Set("0123456789abcdefghjkmnpqrstvwxyz")
        for count in [1, 10, 12, 13, 16, 25] {
            let value = Identifiers.random(count: count)
            #expect(value.count == count)
            #expect(value.allSatisfy { lower.contains($0) })
        }
        let sessions = (0..<1_000).map { _ in Identifiers.sessionID() }
        #expect(Set(sessions).count == 1_000)
        let positions = (0..<16).map { position in Set(sessions.map { Array($0.dropFirst(2))[position] }).count }
        #expect(positions.allSatisfy { $0 == 32 }, "\(positions)")
    }
}
