import Foundation

/// Identifiers the hub hands out. Message and announcement ids are ULIDs (time-ordered,
/// 128 bits, Crockford base32) so they sort by creation and need no coordination between nodes.
public enum Identifiers {
    private static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    public static func messageID(now: Int64 = Clock.nowMillis()) -> String { "m_" + ulid(now: now) }
    public static func announcementID(now: Int64 = Clock.nowMillis()) -> String { "a_" + ulid(now: now) }
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
        var generator = SystemRandomNumberGenerator()
        for index in 10..<26 { bytes[index] = alphabet[Int(generator.next() & 31)] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Lowercase base32 randomness, 5 bits a character.
    public static func random(count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let lower = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)
        return String(decoding: (0..<count).map { _ in lower[Int(generator.next() & 31)] }, as: UTF8.self)
    }
}

/// Wall-clock time in the units the contract uses.
public enum Clock {
    public static func nowMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
