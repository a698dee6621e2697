#if canImport(Glibc)
    import Glibc
#endif

/// Reads the few fields the bench needs from a server frame's JSON by scanning bytes rather
/// than parsing: the hub writes `type` first and a message's `meta` after its body (see
/// `EventEncoding` in DugnadCore), so the type is a prefix check, `seq` and `ref` sit near
/// the start and `meta` is found by searching backwards from the end, past a body of any size.
///
/// Every function returns nil when a field is not where it should be; the handler counts such
/// frames instead of guessing.
enum EventScanner {
    /// The frames the bench tells apart.
    enum Kind: Equatable {
        case message, reply, welcome, presenceDiff, error, other
    }

    private static let typePrefix = Array(#"{"type":""#.utf8)
    private static let kinds: [(name: [UInt8], kind: Kind)] = [
        (Array(#"message""#.utf8), .message),
        (Array(#"reply""#.utf8), .reply),
        (Array(#"presence_diff""#.utf8), .presenceDiff),
        (Array(#"welcome""#.utf8), .welcome),
        (Array(#"error""#.utf8), .error),
    ]
    static let seqKey = Array(#""seq":"#.utf8)
    static let refKey = Array(#""ref":"#.utf8)
    static let okKey = Array(#""ok":"#.utf8)
    static let lastSeqKey = Array(#""last_seq":"#.utf8)
    static let metaTimeKey = Array(#""meta":{"t":"#.utf8)
    static let codeKey = Array(#""code":""#.utf8)
    static let versionKey = Array(#""version":""#.utf8)

    static func kind(of bytes: UnsafeRawBufferPointer) -> Kind {
        guard matches(typePrefix, in: bytes, at: 0) else { return .other }
        for (name, kind) in kinds where matches(name, in: bytes, at: typePrefix.count) {
            return kind
        }
        return .other
    }

    /// The integer after the first occurrence of `key` at or after `from`.
    static func integer(after key: [UInt8], in bytes: UnsafeRawBufferPointer, from: Int = 0) -> Int64? {
        guard let index = firstIndex(of: key, in: bytes, from: from) else { return nil }
        return integer(in: bytes, at: index + key.count)
    }

    /// The integer after the last occurrence of `key` (for fields written after the body).
    static func integer(afterLast key: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int64? {
        guard let index = lastIndex(of: key, in: bytes) else { return nil }
        return integer(in: bytes, at: index + key.count)
    }

    /// `true`/`false` after `"ok":`, nil when absent.
    static func ok(in bytes: UnsafeRawBufferPointer) -> Bool? {
        guard let index = firstIndex(of: okKey, in: bytes, from: 0), index + okKey.count < bytes.count else { return nil }
        switch bytes[index + okKey.count] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: return nil
        }
    }

    /// The string after the first `key` (which ends with the opening quote); escapes are not
    /// decoded, as the values read this way (error codes, a version) contain none.
    static func string(after key: [UInt8], in bytes: UnsafeRawBufferPointer) -> String? {
        guard let index = firstIndex(of: key, in: bytes, from: 0) else { return nil }
        let start = index + key.count
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
        guard end < bytes.count else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    static func integer(in bytes: UnsafeRawBufferPointer, at start: Int) -> Int64? {
        var index = start
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var value: Int64 = 0
        let digitsStart = index
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (added, overflow2) = multiplied.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = added
            index += 1
        }
        guard index > digitsStart else { return nil }
        return negative ? -value : value
    }

    static func matches(_ pattern: [UInt8], in bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        guard offset >= 0, offset + pattern.count <= bytes.count else { return false }
        for index in 0..<pattern.count where bytes[offset + index] != pattern[index] {
            return false
        }
        return true
    }

    /// First occurrence of `pattern` at or after `from`: `memchr` (vectorised) for its
    /// first byte, `memcmp` for the rest; the bench scans every delivery, and a bounds-checked
    /// byte loop was its largest cost.
    static func firstIndex(of pattern: [UInt8], in bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        let start = max(0, from)
        guard let first = pattern.first, let base = bytes.baseAddress, start + pattern.count <= bytes.count else {
            return nil
        }
        return pattern.withUnsafeBytes { needle -> Int? in
            let last = bytes.count - pattern.count  // the last index a match can start at
            var index = start
            while index <= last, let found = memchr(base + index, Int32(first), last - index + 1) {
                let candidate = base.distance(to: UnsafeRawPointer(found))
                if memcmp(base + candidate, needle.baseAddress!, needle.count) == 0 { return candidate }
                index = candidate + 1
            }
            return nil
        }
    }

    /// Last occurrence of `pattern`: a backwards scan for its first byte (unchecked loads),
    /// then `memcmp`.
    static func lastIndex(of pattern: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int? {
        guard let first = pattern.first, let base = bytes.baseAddress, pattern.count <= bytes.count else { return nil }
        return pattern.withUnsafeBytes { needle -> Int? in
            var index = bytes.count - pattern.count
            while index >= 0 {
                if base.load(fromByteOffset: index, as: UInt8.self) == first,
                    memcmp(base + index, needle.baseAddress!, needle.count) == 0
                {
                    return index
                }
                index -= 1
            }
            return nil
        }
    }
}
