/// Streams compact UTF-8 JSON into a byte array.
///
/// Events are encoded once and the same bytes fanned out to every subscriber,
/// so this writes straight into `bytes` with no intermediate `JSONValue` or
/// `String`. Commas are inserted automatically; the caller is responsible for
/// balancing `begin`/`end` calls and pairing each `key` with one value.
public struct JSONWriter: Sendable {
    /// The encoded output so far.
    public var bytes: [UInt8]

    /// Whether the next value or key must be preceded by a comma.
    ///
    /// A single flag is enough instead of a per-level stack: after any value
    /// (including a just-closed container) the enclosing container is
    /// non-empty, and after `{`, `[` or a key no comma may follow.
    private var needsComma = false

    /// Creates a writer with room for `capacity` bytes before reallocating.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Clears the output but keeps its storage, for reusing one writer per connection.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    // MARK: Structure

    /// Writes `{`.
    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Writes `}`.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Writes `[`.
    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    /// Writes `]`.
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes a member name and colon (preceded by a comma if needed); the next
    /// call must write that member's value.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    // MARK: Scalars

    /// Writes an escaped string value.
    public mutating func string(_ s: String) {
        separate()
        appendQuoted(s)
        needsComma = true
    }

    /// Writes an integer value.
    public mutating func int(_ v: Int64) {
        separate()
        appendDecimal(v)
        needsComma = true
    }

    /// Writes an integer value.
    public mutating func int(_ v: Int) {
        int(Int64(v))
    }

    /// Writes a number using Swift's shortest round-tripping representation
    /// (integral values keep a `.0`, so they read back as doubles). JSON has no
    /// NaN or infinity, so non-finite values are written as `null`.
    public mutating func double(_ v: Double) {
        separate()
        if v.isFinite {
            bytes.append(contentsOf: v.description.utf8)
        } else {
            appendLiteral("null")
        }
        needsComma = true
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ v: Bool) {
        separate()
        appendLiteral(v ? "true" : "false")
        needsComma = true
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        appendLiteral("null")
        needsComma = true
    }

    /// Writes any value, keeping object key order.
    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: null()
        case .bool(let b): bool(b)
        case .int(let i): int(i)
        case .double(let d): double(d)
        case .string(let s): string(s)
        case .array(let elements):
            beginArray()
            for element in elements { value(element) }
            endArray()
        case .object(let object):
            beginObject()
            for (k, element) in object {
                key(k)
                value(element)
            }
            endObject()
        }
    }

    /// Inserts already-encoded JSON as one value. The bytes are not checked;
    /// they must be a single complete JSON value.
    public mutating func raw(_ jsonBytes: [UInt8]) {
        separate()
        bytes.append(contentsOf: jsonBytes)
        needsComma = true
    }

    /// Inserts already-encoded JSON text (e.g. a stored `meta` column) as one
    /// value without first copying it into an array. Not checked, like `raw(_:)`.
    public mutating func raw(_ jsonText: String) {
        separate()
        bytes.append(contentsOf: jsonText.utf8)
        needsComma = true
    }

    // MARK: Member shorthands

    /// Writes `"name":"s"`.
    public mutating func field(_ name: String, _ s: String) {
        key(name)
        string(s)
    }

    /// Writes `"name":"s"`, or `"name":null` when `s` is `nil`.
    public mutating func field(_ name: String, _ s: String?) {
        key(name)
        if let s { string(s) } else { null() }
    }

    /// Writes `"name":v`.
    public mutating func field(_ name: String, _ v: Int64) {
        key(name)
        int(v)
    }

    /// Writes `"name":v`.
    public mutating func field(_ name: String, _ v: Int) {
        key(name)
        int(v)
    }

    /// Writes `"name":v`.
    public mutating func field(_ name: String, _ v: Double) {
        key(name)
        double(v)
    }

    /// Writes `"name":true` or `"name":false`.
    public mutating func field(_ name: String, _ v: Bool) {
        key(name)
        bool(v)
    }

    /// Writes `"name":` followed by any value.
    public mutating func field(_ name: String, _ v: JSONValue) {
        key(name)
        value(v)
    }

    /// Writes `"name":` followed by pre-encoded JSON.
    public mutating func field(_ name: String, raw jsonBytes: [UInt8]) {
        key(name)
        raw(jsonBytes)
    }

    // MARK: Internals

    @inline(__always)
    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendLiteral(_ word: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
    }

    private mutating func appendDecimal(_ v: Int64) {
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        // `magnitude` is unsigned, so Int64.min needs no special case.
        var m = v.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: m % 10))
            m /= 10
        } while m != 0
        bytes[start...].reverse()
    }

    private mutating func appendQuoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        // Native strings are already contiguous, so this does not copy.
        s.withUTF8 { appendEscaped($0) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        var i = 0
        let n = utf8.count
        while i < n {
            // Skip eight bytes at a time while none of them could need escaping.
            while n - i >= 8 {
                let word = UnsafeRawPointer(utf8.baseAddress.unsafelyUnwrapped + i).loadUnaligned(as: UInt64.self)
                if Self.mayNeedEscaping(word) { break }
                i += 8
            }
            guard i < n else { break }
            let b = utf8[i]
            // 0xE2 is the lead byte of U+2028/U+2029 (and of other, harmless
            // characters, which stay in the run).
            if b >= 0x20, b != 0x22, b != 0x5C, b != 0xE2 {
                i += 1
                continue
            }
            if b == 0xE2 {
                // Escaped because they are line terminators in JavaScript
                // source, which bites clients that eval or embed the JSON.
                guard i + 2 < n, utf8[i + 1] == 0x80, utf8[i + 2] == 0xA8 || utf8[i + 2] == 0xA9 else {
                    i += 1
                    continue
                }
                flush(utf8, from: runStart, to: i)
                appendLiteral(utf8[i + 2] == 0xA8 ? "\\u2028" : "\\u2029")
                i += 3
                runStart = i
                continue
            }
            flush(utf8, from: runStart, to: i)
            switch b {
            case 0x22: appendLiteral("\\\"")
            case 0x5C: appendLiteral("\\\\")
            case 0x0A: appendLiteral("\\n")
            case 0x0D: appendLiteral("\\r")
            case 0x09: appendLiteral("\\t")
            case 0x08: appendLiteral("\\b")
            case 0x0C: appendLiteral("\\f")
            default:
                appendLiteral("\\u00")
                bytes.append(Self.hexDigit(b >> 4))
                bytes.append(Self.hexDigit(b & 0x0F))
            }
            i += 1
            runStart = i
        }
        flush(utf8, from: runStart, to: n)
    }

    @inline(__always)
    private mutating func flush(_ utf8: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) {
        if start < end {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<end]))
        }
    }

    /// `true` if any byte of `word` is `"`, `\`, a control character or 0xE2
    /// (the lead byte of U+2028/U+2029), via the "has zero byte" bit trick.
    @inline(__always)
    private static func mayNeedEscaping(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        let e2s = word ^ (ones &* 0xE2)
        let hasQuote = (quotes &- ones) & ~quotes
        let hasBackslash = (backslashes &- ones) & ~backslashes
        let hasE2 = (e2s &- ones) & ~e2s
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasE2 | hasControl) & 0x8080_8080_8080_8080 != 0
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ (nibble &- 10)
    }
}

extension JSONValue {
    /// Compact UTF-8 JSON encoding, keeping object key order.
    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter()
        writer.value(self)
        return writer.bytes
    }

    /// Compact JSON encoding as a `String`.
    public func jsonString() -> String {
        String(decoding: jsonBytes(), as: UTF8.self)
    }
}
