/// Channel names that a `join` never creates (`--reserved-channel`, e.g. `hr*`, `board`):
/// an admin creates them explicitly, so that nobody can squat a name meant for a private
/// channel before it exists. A pattern is a name where `*` stands for any run of
/// characters (including none).
public struct ReservedChannelNames: Sendable, Equatable {
    public var patterns: [String]

    public init(_ patterns: [String] = []) {
        self.patterns = patterns
    }

    public func contains(_ name: String) -> Bool {
        patterns.contains { Self.matches(Array($0.utf8), Array(name.utf8)) }
    }

    /// Glob matching with `*` only, iterative (no recursion on untrusted input).
    static func matches(_ pattern: [UInt8], _ name: [UInt8]) -> Bool {
        let star = UInt8(ascii: "*")
        var p = 0
        var n = 0
        var lastStar = -1
        var resume = 0
        while n < name.count {
            if p < pattern.count, pattern[p] == star {
                lastStar = p
                resume = n
                p += 1
            } else if p < pattern.count, pattern[p] == name[n] {
                p += 1
                n += 1
            } else if lastStar >= 0 {
                p = lastStar + 1
                resume += 1
                n = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == star { p += 1 }
        return p == pattern.count
    }
}
