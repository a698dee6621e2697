import Foundation

/// Identifiers the hub hands out. Message and announcement ids are ULIDs (time-ordered,
/// 128 bits, Crockford base32) so they sort by creation and need no coordination between nodes.
public enum Identifiers {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public static func messageID(now: Int64 = WallClock.nowMillis()) -> String { "m_" + ulid(now: now) }
    public static func announcementID(now: Int64 = WallClock.nowMillis()) -> String { "a_" + ulid(now: now) }
    public static func sessionID() -> String { "s_" + random(count: 16) }
    public static func epoch() -> String { "e_" + random(count: 10) }

    /// 10 characters of time (48 bits, ms) then 16 of randomness (80 bits).
    public static func ulid(now: Int64) -> String {
        var bytes = [UInt8](repeating: 0, count: 26)
        var time = UInt64(max(0, now))
        for index in stride(from: 9, through: 0, by: -1) {
            bytes[index] = alphabet[Int(time & 31)]
            time >>= 5
        }
        // 80 random bits from two draws (each draw is a getrandom(2) call; one per
        // character was measurable on the publish path).
        var generator = SystemRandomNumberGenerator()
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        for index in 10..<22 {
            bytes[index] = alphabet[Int(high & 31)]
            high >>= 5
        }
        for index in 22..<26 {
            bytes[index] = alphabet[Int(low & 31)]
            low >>= 5
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Lowercase base32 randomness, 5 bits a character (12 characters per 64-bit draw).
    public static func random(count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let lower = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)
        var characters: [UInt8] = []
        characters.reserveCapacity(count)
        var bits: UInt64 = 0
        for index in 0..<count {
            if index % 12 == 0 { bits = generator.next() }
            characters.append(lower[Int(bits & 31)])
            bits >>= 5
        }
        return String(decoding: characters, as: UTF8.self)
    }
}
