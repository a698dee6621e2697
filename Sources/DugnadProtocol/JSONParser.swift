/// Why a document was rejected, and where.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Human-readable reason including the byte offset, e.g.
    /// `unexpected character 'x' at byte 12, expected a value`.
    public let message: String
    /// Zero-based byte offset into the input where the problem was detected.
    public let offset: Int

    /// Creates an error; `message` should already mention `offset`.
    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    /// Same as `message`.
    public var description: String { message }
}

/// A strict RFC 8259 parser.
///
/// Strict because the input comes from untrusted clients and is re-broadcast:
/// anything another implementation might read differently (duplicate keys,
/// invalid UTF-8, lone surrogates, non-finite numbers) is rejected up front
/// rather than normalised.
public enum JSONParser {
    /// Parses exactly one JSON value, optionally surrounded by whitespace.
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 input. Contiguous collections (`[UInt8]`, `String.UTF8View`,
    ///     NIO's `ByteBufferView`) are read in place; others are copied once.
    ///   - maxDepth: Maximum nesting of arrays and objects; the outermost
    ///     container is depth 1. Recursion is bounded by this value.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        // The buffer closures are untyped-rethrows, so the result travels out as a Result.
        if let result = bytes.withContiguousStorageIfAvailable({ parse(buffer: $0, maxDepth: maxDepth) }) {
            return try result.get()
        }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { parse(buffer: $0, maxDepth: maxDepth) }.get()
    }

    /// Parses exactly one JSON value from the UTF-8 of `text`.
    public static func parse(_ text: String, maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        try parse(text.utf8, maxDepth: maxDepth)
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) -> Result<JSONValue, JSONParseError> {
        var reader = Reader(input: buffer, maxDepth: maxDepth)
        do {
            return .success(try reader.parseDocument())
        } catch {
            return .failure(error)
        }
    }
}

// MARK: - Byte constants

private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")
private let slash = UInt8(ascii: "/")
private let comma = UInt8(ascii: ",")
private let colon = UInt8(ascii: ":")
private let minus = UInt8(ascii: "-")
private let plus = UInt8(ascii: "+")
private let dot = UInt8(ascii: ".")
private let zero = UInt8(ascii: "0")
private let nine = UInt8(ascii: "9")
private let openBrace = UInt8(ascii: "{")
private let closeBrace = UInt8(ascii: "}")
private let openBracket = UInt8(ascii: "[")
private let closeBracket = UInt8(ascii: "]")

@inline(__always)
private func isDigit(_ b: UInt8) -> Bool { b &- zero < 10 }

// MARK: - Reader

extension JSONParser {
    /// Cursor over the input. Lives only for one `parse` call, so holding an
    /// unsafe buffer is sound.
    private struct Reader {
        let input: UnsafeBufferPointer<UInt8>
        let maxDepth: Int
        var pos = 0
        var depth = 0
        /// Reused for strings that contain escapes so each one doesn't allocate anew.
        var scratch: [UInt8] = []
        /// Members of every open container, innermost last. Collecting them here
        /// and copying out once per container gives each result array a single
        /// exact-size allocation instead of repeated growth.
        var valueStack: [JSONValue] = []
        var keyStack: [String] = []

        init(input: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
            self.input = input
            self.maxDepth = maxDepth
        }

        /// Sizes the member stacks on first use so typical frames never regrow them.
        @inline(__always)
        mutating func prepareStacks() {
            if valueStack.capacity == 0 {
                valueStack.reserveCapacity(32)
                keyStack.reserveCapacity(16)
            }
        }

        mutating func parseDocument() throws(JSONParseError) -> JSONValue {
            skipWhitespace()
            let value = try parseValue()
            skipWhitespace()
            if pos < input.count {
                throw unexpected(expecting: "end of input after the top-level value")
            }
            return value
        }

        @inline(__always)
        mutating func skipWhitespace() {
            while pos < input.count {
                switch input[pos] {
                case 0x20, 0x09, 0x0A, 0x0D: pos += 1
                default: return
                }
            }
        }

        mutating func parseValue() throws(JSONParseError) -> JSONValue {
            guard pos < input.count else { throw unexpected(expecting: "a value") }
            let b = input[pos]
            switch b {
            case quote: return .string(try parseString())
            case openBrace: return try parseObject()
            case openBracket: return try parseArray()
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                return .null
            case minus, zero...nine:
                return try parseNumber()
            case slash:
                throw fail("comments are not allowed", at: pos)
            default:
                throw unexpected(expecting: "a value")
            }
        }

        // MARK: Containers

        mutating func enterContainer() throws(JSONParseError) {
            depth += 1
            if depth > maxDepth {
                throw fail("nesting deeper than \(maxDepth) levels", at: pos)
            }
        }

        mutating func parseArray() throws(JSONParseError) -> JSONValue {
            try enterContainer()
            pos += 1
            skipWhitespace()
            if pos < input.count, input[pos] == closeBracket {
                pos += 1
                depth -= 1
                return .array([])
            }
            prepareStacks()
            let base = valueStack.count
            while true {
                valueStack.append(try parseValue())
                skipWhitespace()
                guard pos < input.count else { throw unexpected(expecting: "',' or ']'") }
                let b = input[pos]
                if b == comma {
                    let commaAt = pos
                    pos += 1
                    skipWhitespace()
                    if pos < input.count, input[pos] == closeBracket {
                        throw fail("trailing comma in array", at: commaAt)
                    }
                } else if b == closeBracket {
                    pos += 1
                    break
                } else {
                    throw unexpected(expecting: "',' or ']'")
                }
            }
            depth -= 1
            return .array(popValues(from: base))
        }

        mutating func parseObject() throws(JSONParseError) -> JSONValue {
            try enterContainer()
            pos += 1
            skipWhitespace()
            if pos < input.count, input[pos] == closeBrace {
                pos += 1
                depth -= 1
                return .object(JSONObject())
            }
            prepareStacks()
            let base = keyStack.count
            let valueBase = valueStack.count
            // Only filled once the object outgrows JSONObject's linear-scan size;
            // it is then handed over as the object's index rather than rebuilt.
            var index: [String: Int] = [:]
            while true {
                guard pos < input.count, input[pos] == quote else {
                    throw unexpected(expecting: "a string key")
                }
                let keyAt = pos
                let key = try parseString()
                let position = keyStack.count - base
                let duplicate: Bool
                if position < JSONObject.linearLimit {
                    duplicate = keyStack[base...].contains(key)
                } else {
                    if index.isEmpty {
                        index.reserveCapacity(position * 2)
                        for (i, k) in keyStack[base...].enumerated() { index[k] = i }
                    }
                    duplicate = index.updateValue(position, forKey: key) != nil
                }
                if duplicate {
                    throw fail("duplicate key '\(Self.abbreviated(key))'", at: keyAt)
                }
                keyStack.append(key)
                skipWhitespace()
                guard pos < input.count, input[pos] == colon else { throw unexpected(expecting: "':'") }
                pos += 1
                skipWhitespace()
                valueStack.append(try parseValue())
                skipWhitespace()
                guard pos < input.count else { throw unexpected(expecting: "',' or '}'") }
                let b = input[pos]
                if b == comma {
                    let commaAt = pos
                    pos += 1
                    skipWhitespace()
                    if pos < input.count, input[pos] == closeBrace {
                        throw fail("trailing comma in object", at: commaAt)
                    }
                } else if b == closeBrace {
                    pos += 1
                    break
                } else {
                    throw unexpected(expecting: "',' or '}'")
                }
            }
            depth -= 1
            let keys = Array(keyStack[base...])
            keyStack.removeSubrange(base...)
            return .object(JSONObject(uniqueKeys: keys, values: popValues(from: valueBase), index: index))
        }

        /// Moves the top of the value stack into an exactly-sized array.
        mutating func popValues(from base: Int) -> [JSONValue] {
            let values = Array(valueStack[base...])
            valueStack.removeSubrange(base...)
            return values
        }

        // MARK: Scalars

        mutating func expectLiteral(_ word: StaticString) throws(JSONParseError) {
            let start = pos
            let count = word.utf8CodeUnitCount
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
            guard input.count - start >= count,
                UnsafeBufferPointer(rebasing: input[start..<start + count]).elementsEqual(expected)
            else {
                throw fail("invalid literal, expected '\(word)'", at: start)
            }
            pos += count
        }

        mutating func parseNumber() throws(JSONParseError) -> JSONValue {
            let start = pos
            let negative = input[pos] == minus
            if negative { pos += 1 }
            guard pos < input.count, isDigit(input[pos]) else {
                throw unexpected(expecting: "a digit after '-'")
            }
            // Accumulate the magnitude as we go so plain integers never touch
            // the (much slower) string-to-double conversion.
            var magnitude: UInt64 = 0
            var overflowed = false
            if input[pos] == zero {
                pos += 1
                if pos < input.count, isDigit(input[pos]) {
                    throw fail("leading zeros are not allowed in numbers", at: start)
                }
            } else {
                while pos < input.count, isDigit(input[pos]) {
                    if !overflowed {
                        let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                        let (sum, o2) = times10.addingReportingOverflow(UInt64(input[pos] &- zero))
                        if o1 || o2 { overflowed = true } else { magnitude = sum }
                    }
                    pos += 1
                }
            }
            var integral = true
            if pos < input.count, input[pos] == dot {
                integral = false
                pos += 1
                guard pos < input.count, isDigit(input[pos]) else {
                    throw unexpected(expecting: "a digit after the decimal point")
                }
                while pos < input.count, isDigit(input[pos]) { pos += 1 }
            }
            if pos < input.count, input[pos] | 0x20 == UInt8(ascii: "e") {
                integral = false
                pos += 1
                if pos < input.count, input[pos] == plus || input[pos] == minus { pos += 1 }
                guard pos < input.count, isDigit(input[pos]) else {
                    throw unexpected(expecting: "a digit in the exponent")
                }
                while pos < input.count, isDigit(input[pos]) { pos += 1 }
            }
            if integral, !overflowed {
                if negative, magnitude <= UInt64(Int64.max) + 1 {
                    // Two's-complement negation covers Int64.min, whose magnitude has no positive Int64.
                    return .int(Int64(bitPattern: 0 &- magnitude))
                }
                if !negative, magnitude <= UInt64(Int64.max) {
                    return .int(Int64(magnitude))
                }
            }
            // The grammar was checked above, so only plain decimal text reaches
            // Double's parser (which would otherwise accept "inf", "nan", hex).
            let text = String(decoding: UnsafeBufferPointer(rebasing: input[start..<pos]), as: UTF8.self)
            guard let d = Double(text), d.isFinite else {
                throw fail("number \(Self.abbreviated(text)) is out of range", at: start)
            }
            return .double(d)
        }

        // MARK: Strings

        mutating func parseString() throws(JSONParseError) -> String {
            let open = pos
            pos += 1
            var runStart = pos
            var escaped = false
            while true {
                // Hot loop: plain printable ASCII is only scanned, never copied per
                // byte, and eight bytes at a time while no byte needs a closer look.
                while input.count - pos >= 8 {
                    let word = UnsafeRawPointer(input.baseAddress.unsafelyUnwrapped + pos).loadUnaligned(as: UInt64.self)
                    if Self.mayNeedAttention(word) { break }
                    pos += 8
                }
                while pos < input.count {
                    let b = input[pos]
                    guard b >= 0x20, b < 0x80, b != quote, b != backslash else { break }
                    pos += 1
                }
                guard pos < input.count else {
                    throw fail("unterminated string starting at byte \(open)", at: pos, appendOffset: false)
                }
                let b = input[pos]
                if b == quote {
                    let run = UnsafeBufferPointer(rebasing: input[runStart..<pos])
                    pos += 1
                    if !escaped {
                        // Already validated, so decoding performs no repairs.
                        return String(decoding: run, as: UTF8.self)
                    }
                    scratch.append(contentsOf: run)
                    return String(decoding: scratch, as: UTF8.self)
                } else if b == backslash {
                    if !escaped {
                        escaped = true
                        scratch.removeAll(keepingCapacity: true)
                    }
                    scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<pos]))
                    try parseEscape()
                    runStart = pos
                } else if b < 0x20 {
                    throw fail("unescaped control character \(Self.hexByte(b)) in string", at: pos)
                } else {
                    try skipMultibyteScalar()
                }
            }
        }

        /// `true` if any byte of `word` is a quote, a backslash, a control
        /// character or non-ASCII; the classic "has zero byte" bit trick, which
        /// is exact for detecting whether such a byte exists.
        @inline(__always)
        static func mayNeedAttention(_ word: UInt64) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            let quotes = word ^ (ones &* UInt64(quote))
            let backslashes = word ^ (ones &* UInt64(backslash))
            let hasQuote = (quotes &- ones) & ~quotes
            let hasBackslash = (backslashes &- ones) & ~backslashes
            let hasControl = (word &- ones &* 0x20) & ~word
            return (hasQuote | hasBackslash | hasControl | word) & highs != 0
        }

        /// Validates one multi-byte UTF-8 sequence at `pos` (Unicode Table 3-7),
        /// rejecting overlongs, encoded surrogates and values above U+10FFFF.
        mutating func skipMultibyteScalar() throws(JSONParseError) {
            let start = pos
            let lead = input[start]
            var trailing: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: trailing = 1
            case 0xE0: trailing = 2; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: trailing = 2
            case 0xED: trailing = 2; high = 0x9F
            case 0xF0: trailing = 3; low = 0x90
            case 0xF1...0xF3: trailing = 3
            case 0xF4: trailing = 3; high = 0x8F
            default:
                throw fail("invalid UTF-8 lead byte \(Self.hexByte(lead)) in string", at: start)
            }
            guard input.count - start > trailing else {
                throw fail("truncated UTF-8 sequence in string", at: start)
            }
            let second = input[start + 1]
            guard second >= low, second <= high else {
                throw fail("invalid UTF-8 sequence in string", at: start)
            }
            var i = 2
            while i <= trailing {
                guard input[start + i] & 0xC0 == 0x80 else {
                    throw fail("invalid UTF-8 sequence in string", at: start)
                }
                i += 1
            }
            pos = start + trailing + 1
        }

        /// Decodes the escape at `pos` (a backslash) into `scratch`.
        mutating func parseEscape() throws(JSONParseError) {
            let start = pos
            guard pos + 1 < input.count else {
                throw fail("unterminated escape sequence", at: start)
            }
            let c = input[pos + 1]
            pos += 2
            switch c {
            case quote, backslash, slash: scratch.append(c)
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                let unit = try readHex4(escapeAt: start)
                var scalar = UInt32(unit)
                switch unit {
                case 0xD800...0xDBFF:
                    // A high surrogate is only meaningful followed by an escaped low one.
                    guard input.count - pos >= 6, input[pos] == backslash, input[pos + 1] == UInt8(ascii: "u") else {
                        throw fail("lone surrogate \\u\(Self.hex4(unit)) in string", at: start)
                    }
                    let lowAt = pos
                    pos += 2
                    let low = try readHex4(escapeAt: lowAt)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw fail("lone surrogate \\u\(Self.hex4(unit)) in string", at: start)
                    }
                    scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                case 0xDC00...0xDFFF:
                    throw fail("lone surrogate \\u\(Self.hex4(unit)) in string", at: start)
                default:
                    break
                }
                appendUTF8(scalar)
            default:
                let shown = c >= 0x21 && c < 0x7F ? "'\\\(Character(Unicode.Scalar(c)))'" : "\\ followed by \(Self.hexByte(c))"
                throw fail("invalid escape \(shown) in string", at: start)
            }
        }

        mutating func readHex4(escapeAt: Int) throws(JSONParseError) -> UInt16 {
            guard input.count - pos >= 4 else {
                throw fail("incomplete \\u escape in string", at: escapeAt)
            }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let b = input[pos]
                let digit: UInt8
                switch b {
                case zero...nine: digit = b &- zero
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b &- UInt8(ascii: "a") &+ 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b &- UInt8(ascii: "A") &+ 10
                default: throw fail("invalid hex digit in \\u escape", at: pos)
                }
                value = value << 4 | UInt16(digit)
                pos += 1
            }
            return value
        }

        mutating func appendUTF8(_ scalar: UInt32) {
            switch scalar {
            case 0..<0x80:
                scratch.append(UInt8(scalar))
            case 0x80..<0x800:
                scratch.append(UInt8(0xC0 | scalar >> 6))
                scratch.append(UInt8(0x80 | scalar & 0x3F))
            case 0x800..<0x10000:
                scratch.append(UInt8(0xE0 | scalar >> 12))
                scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                scratch.append(UInt8(0x80 | scalar & 0x3F))
            default:
                scratch.append(UInt8(0xF0 | scalar >> 18))
                scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
                scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
                scratch.append(UInt8(0x80 | scalar & 0x3F))
            }
        }

        // MARK: Errors

        func fail(_ reason: String, at offset: Int, appendOffset: Bool = true) -> JSONParseError {
            JSONParseError(
                message: appendOffset ? "\(reason) at byte \(offset)" : "\(reason), reached end of input at byte \(offset)",
                offset: offset)
        }

        func unexpected(expecting what: String) -> JSONParseError {
            guard pos < input.count else {
                return JSONParseError(message: "unexpected end of input at byte \(pos), expected \(what)", offset: pos)
            }
            let b = input[pos]
            let shown = b >= 0x21 && b < 0x7F ? "character '\(Character(Unicode.Scalar(b)))'" : "byte \(Self.hexByte(b))"
            return JSONParseError(message: "unexpected \(shown) at byte \(pos), expected \(what)", offset: pos)
        }

        static func hexByte(_ b: UInt8) -> String {
            let digits = String(b, radix: 16, uppercase: true)
            return b < 0x10 ? "0x0\(digits)" : "0x\(digits)"
        }

        static func hex4(_ v: UInt16) -> String {
            let digits = String(v, radix: 16, uppercase: true)
            return String(repeating: "0", count: 4 - digits.count) + digits
        }

        /// Keeps error messages (which end up in logs and client replies) bounded.
        static func abbreviated(_ s: String) -> String {
            s.count <= 64 ? s : String(s.prefix(64)) + "…"
        }
    }
}
