import Testing

@testable import DugnadProtocol

@Suite struct JSONTests {
    // MARK: Helpers

    private func parse(_ text: String, maxDepth: Int = 64) throws -> JSONValue {
        try JSONParser.parse(text, maxDepth: maxDepth)
    }

    /// Parses input that must be rejected and returns the error for message checks.
    private func rejection(_ text: String, maxDepth: Int = 64) -> JSONParseError? {
        rejection(Array(text.utf8), maxDepth: maxDepth)
    }

    private func rejection(_ bytes: [UInt8], maxDepth: Int = 64) -> JSONParseError? {
        do {
            let value = try JSONParser.parse(bytes, maxDepth: maxDepth)
            Issue.record("expected rejection of \(bytes), got \(value)")
            return nil
        } catch {
            return error
        }
    }

    private func written(_ build: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        build(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    // MARK: Parsing values

    @Test func parsesScalars() throws {
        #expect(try parse("null") == .null)
        #expect(try parse("true") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("0") == .int(0))
        #expect(try parse("-0") == .int(0))
        #expect(try parse("42") == .int(42))
        #expect(try parse("-17") == .int(-17))
        #expect(try parse("1.5") == .double(1.5))
        #expect(try parse("-0.25") == .double(-0.25))
        #expect(try parse("1e3") == .double(1000))
        #expect(try parse("2E-2") == .double(0.02))
        #expect(try parse("1.0") == .double(1.0))
        #expect(try parse("1e+2") == .double(100))
        #expect(try parse("\"hi\"") == .string("hi"))
        #expect(try parse("\"\"") == .string(""))
    }

    @Test func parsesContainersAndWhitespace() throws {
        let value = try parse(" \t\r\n{ \"a\" : [ 1 , 2.5 , \"x\" , null , true , { } , [ ] ] , \"b\":{\"c\":false} }\n ")
        let expected: JSONValue = ["a": [1, 2.5, "x", .null, true, .object(JSONObject()), []], "b": ["c": false]]
        #expect(value == expected)
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object(JSONObject()))
        #expect(try parse("[[[]]]") == [[[]]])
    }

    @Test func parsesFromVariousByteCollections() throws {
        let text = "{\"k\":[1,\"v\"]}"
        let expected: JSONValue = ["k": [1, "v"]]
        #expect(try JSONParser.parse(Array(text.utf8)) == expected)
        #expect(try JSONParser.parse(text.utf8) == expected)
        #expect(try JSONParser.parse(Array(text.utf8)[...]) == expected)
        // Not contiguous: exercises the copy-once fallback.
        #expect(try JSONParser.parse(Array(text.utf8).lazy.map { $0 }) == expected)
        // A sub-range must be parsed with offsets relative to it.
        let framed = Array("xx\(text)yy".utf8)
        #expect(try JSONParser.parse(framed[2..<(framed.count - 2)]) == expected)
    }

    @Test func keepsKeyOrder() throws {
        let text = "{\"zeta\":1,\"alpha\":2,\"mid\":3,\"b\":4}"
        let value = try parse(text)
        #expect(value.objectValue?.keys == ["zeta", "alpha", "mid", "b"])
        #expect(value.jsonString() == text)
        // Large enough to switch JSONObject to its hashed index.
        let many = (0..<40).map { "\"k\(39 - $0)\":\($0)" }.joined(separator: ",")
        let big = try parse("{\(many)}")
        #expect(big.objectValue?.keys == (0..<40).map { "k\(39 - $0)" })
        #expect(big["k0"] == .int(39))
        #expect(big.jsonString() == "{\(many)}")
    }

    @Test func unicodeAndEscapes() throws {
        #expect(try parse(#""\ud83d\udc4d""#) == .string("👍"))
        #expect(try parse(#""\uD83D\uDC4D""#) == .string("👍"))
        #expect(try parse(#""\u00e9\u4e2d""#) == .string("é中"))
        #expect(try parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try parse(#""a\"b\\c\/d\be\ff\ng\rh\ti""#) == .string("a\"b\\c/d\u{8}e\u{c}f\ng\rh\ti"))
        #expect(try parse("\"raw é 中 👍 \u{10FFFF}\"") == .string("raw é 中 👍 \u{10FFFF}"))
        #expect(try parse(#""pre👍\n\u00e9post""#) == .string("pre👍\né" + "post"))
        // Keys decode the same way as values.
        #expect(try parse(#"{"\u0041":1}"#)["A"] == .int(1))
    }

    @Test func int64Edges() throws {
        #expect(try parse("9223372036854775807") == .int(Int64.max))
        #expect(try parse("-9223372036854775808") == .int(Int64.min))
        #expect(try parse("9223372036854775808") == .double(9223372036854775808.0))
        #expect(try parse("-9223372036854775809") == .double(-9223372036854775809.0))
        #expect(try parse("18446744073709551616") == .double(18446744073709551616.0))
        #expect(try parse("123456789012345678901234567890") == .double(1.2345678901234568e29))
        #expect(try parse("1e-400") == .double(0))
    }

    // MARK: Rejections

    @Test(arguments: [
        ("", "unexpected end of input at byte 0"),
        ("   ", "unexpected end of input at byte 3"),
        ("[1,]", "trailing comma in array at byte 2"),
        ("{\"a\":1,}", "trailing comma in object at byte 6"),
        ("[1 2]", "unexpected character '2' at byte 3"),
        ("{\"a\" 1}", "expected ':'"),
        ("{a:1}", "unexpected character 'a' at byte 1, expected a string key"),
        ("{\"a\":1 \"b\":2}", "expected ',' or '}'"),
        ("[1", "unexpected end of input at byte 2, expected ',' or ']'"),
        ("1 2", "unexpected character '2' at byte 2, expected end of input"),
        ("{} x", "unexpected character 'x' at byte 3"),
        ("// c\n1", "comments are not allowed at byte 0"),
        ("[1, /* c */ 2]", "comments are not allowed at byte 4"),
        ("NaN", "unexpected character 'N' at byte 0, expected a value"),
        ("Infinity", "unexpected character 'I' at byte 0"),
        ("-Infinity", "expected a digit after '-'"),
        ("01", "leading zeros are not allowed in numbers at byte 0"),
        ("-012", "leading zeros are not allowed in numbers at byte 0"),
        ("+1", "unexpected character '+' at byte 0"),
        (".5", "unexpected character '.' at byte 0"),
        ("1.", "expected a digit after the decimal point"),
        ("1.e5", "expected a digit after the decimal point"),
        ("1e", "expected a digit in the exponent"),
        ("1e+", "expected a digit in the exponent"),
        ("-", "expected a digit after '-'"),
        ("1e999", "number 1e999 is out of range at byte 0"),
        ("-1e999", "out of range"),
        ("tru", "invalid literal, expected 'true' at byte 0"),
        ("nul", "expected 'null'"),
        ("True", "unexpected character 'T'"),
        ("[nulls]", "unexpected character 's' at byte 5"),
        ("\"abc", "unterminated string starting at byte 0"),
        ("\"a\tb\"", "unescaped control character 0x09 in string at byte 2"),
        ("\"a\nb\"", "unescaped control character 0x0A in string at byte 2"),
        ("\"\\x\"", "invalid escape '\\x' in string at byte 1"),
        ("\"\\u12zz\"", "invalid hex digit in \\u escape at byte 5"),
        ("\"\\u12", "incomplete \\u escape in string at byte 1"),
        ("\"\\ud83d\"", "lone surrogate \\uD83D in string at byte 1"),
        ("\"\\ud83dx\"", "lone surrogate \\uD83D"),
        ("\"\\ud83d\\u0041\"", "lone surrogate \\uD83D"),
        ("\"\\udc4d\"", "lone surrogate \\uDC4D in string at byte 1"),
        ("\"\\udc4d\\ud83d\"", "lone surrogate \\uDC4D"),
        ("{\"a\":1,\"a\":2}", "duplicate key 'a' at byte 7"),
        ("{\"x\":{\"y\":1,\"y\":1}}", "duplicate key 'y' at byte 12"),
        ("{\"\\u0061\":1,\"a\":2}", "duplicate key 'a'"),
        ("\u{FEFF}1", "unexpected byte 0xEF at byte 0"),
    ])
    func rejects(input: String, messageFragment: String) {
        guard let error = rejection(input) else { return }
        #expect(error.message.contains(messageFragment), "message was: \(error.message)")
        #expect(error.description == error.message)
    }

    @Test func duplicateKeysInLargeObjectsAreRejected() {
        // Above the linear-scan limit duplicates are found through the hashed index.
        let members = (0..<30).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let error = rejection("{\(members),\"k3\":0}")
        #expect(error?.message.contains("duplicate key 'k3'") == true)
    }

    @Test(
        arguments: [
            ([0x22, 0xFF, 0x22], "invalid UTF-8 lead byte 0xFF in string at byte 1"),
            ([0x22, 0x80, 0x22], "invalid UTF-8 lead byte 0x80"),
            ([0x22, 0xC0, 0xAF, 0x22], "invalid UTF-8 lead byte 0xC0"),  // overlong '/'
            ([0x22, 0xC1, 0xBF, 0x22], "invalid UTF-8 lead byte 0xC1"),  // overlong
            ([0x22, 0xE0, 0x80, 0xAF, 0x22], "invalid UTF-8 sequence in string at byte 1"),  // overlong 3-byte
            ([0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22], "invalid UTF-8 sequence"),  // overlong 4-byte
            ([0x22, 0xED, 0xA0, 0x80, 0x22], "invalid UTF-8 sequence"),  // encoded surrogate U+D800
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid UTF-8 sequence"),  // above U+10FFFF
            ([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], "invalid UTF-8 lead byte 0xF5"),
            ([0x22, 0xC3, 0x22], "invalid UTF-8 sequence"),  // missing continuation
            ([0x22, 0xE4, 0xB8, 0x41, 0x22], "invalid UTF-8 sequence"),
            ([0x22, 0xE4, 0xB8], "truncated UTF-8 sequence in string at byte 1"),
            ([0x22, 0x61, 0x00, 0x22], "unescaped control character 0x00 in string at byte 2"),
            ([0x22, 0x1F, 0x22], "unescaped control character 0x1F"),
            ([0xC3, 0xA9], "unexpected byte 0xC3 at byte 0"),
        ] as [([UInt8], String)])
    func rejectsInvalidUTF8(bytes: [UInt8], messageFragment: String) {
        guard let error = rejection(bytes) else { return }
        #expect(error.message.contains(messageFragment), "message was: \(error.message)")
    }

    @Test func errorOffsetMatchesMessage() {
        let error = rejection("[true, fals]")
        #expect(error?.offset == 7)
        #expect(error?.message == "invalid literal, expected 'false' at byte 7")
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try parse(ok) != .null)
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let error = rejection(tooDeep)
        #expect(error?.message == "nesting deeper than 64 levels at byte 64")
        #expect(error?.offset == 64)

        // Objects count too, and the limit is configurable.
        #expect(try parse("{\"a\":{\"b\":1}}", maxDepth: 2)["a"]?["b"] == .int(1))
        #expect(rejection("{\"a\":{\"b\":[]}}", maxDepth: 2)?.message.contains("nesting deeper than 2 levels") == true)
        #expect(try parse("7", maxDepth: 0) == .int(7))
        #expect(rejection("[]", maxDepth: 0) != nil)
        // Depth is about nesting, not the number of siblings.
        let wide = "[" + Array(repeating: "[[]]", count: 500).joined(separator: ",") + "]"
        #expect(try parse(wide, maxDepth: 3).arrayValue?.count == 500)
    }

    // MARK: Accessors and JSONObject

    @Test func accessors() throws {
        let value = try parse(#"{"s":"x","i":7,"d":7.0,"f":7.5,"big":1e30,"b":true,"n":null,"a":[1,2],"o":{"k":"v"}}"#)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["i"]?.int64Value == 7)
        #expect(value["d"]?.int64Value == 7)
        #expect(value["f"]?.int64Value == nil)
        #expect(value["big"]?.int64Value == nil)
        #expect(value["s"]?.int64Value == nil)
        #expect(value["i"]?.doubleValue == 7.0)
        #expect(value["b"]?.boolValue == true)
        #expect(value["i"]?.boolValue == nil)
        #expect(value["n"]?.isNull == true)
        #expect(value["s"]?.isNull == false)
        #expect(value["a"]?.arrayValue == [1, 2])
        #expect(value["a"]?[1] == .int(2))
        #expect(value["a"]?[2] == nil)
        #expect(value["o"]?.objectValue?["k"] == .string("v"))
        #expect(value["missing"] == nil)
        #expect(value["s"]?["k"] == nil)
        #expect(value.objectValue?.count == 9)
    }

    @Test func objectMutation() {
        var object = JSONObject([("a", 1), ("b", 2)])
        object["c"] = 3
        object["a"] = "replaced"
        #expect(object.keys == ["a", "b", "c"])
        #expect(object["a"] == .string("replaced"))
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(object.count == 2)
        #expect(object.pairs.map(\.0) == ["a", "c"])
        #expect(object.removeValue(forKey: "zzz") == nil)

        // Repeated keys in the initializer: first position, last value.
        let repeated = JSONObject([("x", 1), ("y", 2), ("x", 3)])
        #expect(repeated.keys == ["x", "y"])
        #expect(repeated["x"] == .int(3))

        // Crossing the index threshold in both directions keeps lookups right.
        var big = JSONObject()
        for i in 0..<30 { big["k\(i)"] = .int(Int64(i)) }
        for i in stride(from: 0, to: 30, by: 2) { big["k\(i)"] = nil }
        #expect(big.count == 15)
        #expect(big["k1"] == .int(1))
        #expect(big["k2"] == nil)
        #expect(big["k29"] == .int(29))
        for i in stride(from: 1, to: 27, by: 2) { big["k\(i)"] = nil }
        #expect(big.keys == ["k27", "k29"])
        #expect(big["k29"] == .int(29))
    }

    @Test func objectEqualityIgnoresOrder() {
        let ab = JSONObject([("a", 1), ("b", 2)])
        let ba = JSONObject([("b", 2), ("a", 1)])
        #expect(ab == ba)
        #expect(ab.keys != ba.keys)
        #expect(ab != JSONObject([("a", 1), ("b", 3)]))
        #expect(ab != JSONObject([("a", 1), ("c", 2)]))
        #expect(ab != JSONObject([("a", 1)]))
        #expect(JSONValue.int(1) != JSONValue.double(1))
    }

    // MARK: Writer

    @Test func writesEveryKind() {
        let value: JSONValue = [
            "null": .null, "t": true, "f": false, "i": -12, "max": .int(Int64.max), "min": .int(Int64.min),
            "d": 2.5, "whole": 2.0, "tiny": 1e-7, "s": "str", "a": [1, [], [:]], "o": ["x": []],
        ]
        #expect(
            value.jsonString()
                == #"{"null":null,"t":true,"f":false,"i":-12,"max":9223372036854775807,"min":-9223372036854775808,"#
                + #""d":2.5,"whole":2.0,"tiny":1e-07,"s":"str","a":[1,[],{}],"o":{"x":[]}}"#)
        #expect(JSONValue.int(0).jsonString() == "0")
        #expect(JSONValue.double(.infinity).jsonString() == "null")
        #expect(JSONValue.double(.nan).jsonString() == "null")
        #expect(JSONValue.double(-0.0).jsonString() == "-0.0")
    }

    @Test func writerEscaping() throws {
        let s = "q\"b\\s/n\nr\rt\tb\u{8}f\u{c}nul\u{0}us\u{1f}del\u{7f}ls\u{2028}ps\u{2029}é👍\u{2026}"
        let out = written { $0.string(s) }
        #expect(out == #""q\"b\\s/n\nr\rt\tb\bf\fnul\u0000us\u001fdel"# + "\u{7f}" + #"ls\u2028ps\u2029"# + "é👍\u{2026}\"")
        // And it reads back to the same string.
        #expect(try JSONParser.parse(out) == .string(s))
        // Keys are escaped the same way.
        #expect(
            written { w in
                w.beginObject(); w.key("a\"\u{2028}"); w.int(1); w.endObject()
            } == #"{"a\"\u2028":1}"#)
        // Escapes at the very start and end of a string, and a lone 0xE2 lead at the end.
        #expect(written { $0.string("\n") } == #""\n""#)
        #expect(written { $0.string("\"x\"") } == #""\"x\"""#)
        #expect(written { $0.string("a\u{2028}") } == #""a\u2028""#)
        #expect(written { $0.string("\u{2010}") } == "\"\u{2010}\"")
    }

    @Test func writerCommaPlacement() {
        let out = written { w in
            w.beginObject()
            w.key("a")
            w.beginArray()
            w.int(1)
            w.beginArray()
            w.endArray()
            w.beginArray()
            w.int(2)
            w.int(3)
            w.endArray()
            w.beginObject()
            w.endObject()
            w.beginObject()
            w.key("x")
            w.null()
            w.key("y")
            w.bool(false)
            w.endObject()
            w.string("s")
            w.endArray()
            w.key("b")
            w.beginObject()
            w.key("c")
            w.beginObject()
            w.endObject()
            w.endObject()
            w.field("d", "str")
            w.field("e", Optional<String>.none)
            w.field("f", 5)
            w.field("g", Int64(-6))
            w.field("h", true)
            w.field("i", 0.5)
            w.field("j", ["k": [1]] as JSONValue)
            w.field("k", raw: Array("[1,{\"z\":2}]".utf8))
            w.key("l")
            w.raw("\"pre\"")
            w.endObject()
        }
        #expect(
            out
                == #"{"a":[1,[],[2,3],{},{"x":null,"y":false},"s"],"b":{"c":{}},"d":"str","e":null,"f":5,"g":-6,"h":true,"i":0.5,"j":{"k":[1]},"k":[1,{"z":2}],"l":"pre"}"#
        )
        #expect(throws: Never.self) { try JSONParser.parse(out) }
    }

    @Test func writerRawArrayElementsAndReset() {
        var w = JSONWriter(capacity: 8)
        w.beginArray()
        w.raw(Array("{\"a\":1}".utf8))
        w.raw(Array("2".utf8))
        w.double(3)
        w.endArray()
        #expect(String(decoding: w.bytes, as: UTF8.self) == #"[{"a":1},2,3.0]"#)
        w.reset()
        #expect(w.bytes.isEmpty)
        w.int(Int(-5))
        #expect(String(decoding: w.bytes, as: UTF8.self) == "-5")
    }

    /// Both sides scan eight bytes at a time; a special byte must be found at
    /// every position relative to those words.
    @Test(arguments: ["\"", "\\", "\n", "\u{0}", "\u{1f}", "é", "\u{2028}", "\u{2026}", "👍"])
    func specialCharacterAtEveryAlignment(special: String) throws {
        let escaped: String =
            switch special {
            case "\"": #"\""#
            case "\\": #"\\"#
            case "\n": #"\n"#
            case "\u{0}": #"\u0000"#
            case "\u{1f}": #"\u001f"#
            case "\u{2028}": #"\u2028"#
            default: special
            }
        for prefix in 0..<20 {
            for suffix in [0, 1, 7, 8, 9, 17] {
                let s = String(repeating: "a", count: prefix) + special + String(repeating: "b", count: suffix)
                let out = written { $0.string(s) }
                let expected =
                    "\"" + String(repeating: "a", count: prefix) + escaped + String(repeating: "b", count: suffix) + "\""
                #expect(out == expected)
                #expect(try JSONParser.parse(out) == .string(s))
            }
        }
    }

    @Test func parserFindsBadBytesAtEveryAlignment() throws {
        let bad: [([UInt8], String)] = [
            ([0x0A], "unescaped control character 0x0A"),
            ([0x7F, 0xFF], "invalid UTF-8 lead byte 0xFF"),
            ([0xED, 0xA0, 0x80], "invalid UTF-8 sequence"),
        ]
        for (bytes, fragment) in bad {
            for prefix in 0..<20 {
                let input =
                    [0x22] + Array(repeating: UInt8(ascii: "a"), count: prefix) + bytes
                    + Array(repeating: UInt8(ascii: "b"), count: 12) + [0x22]
                let error = rejection(input)
                #expect(error?.message.contains(fragment) == true, "prefix \(prefix): \(error?.message ?? "accepted")")
                #expect(error?.offset == 1 + prefix + (bytes.count == 2 ? 1 : 0), "prefix \(prefix)")
            }
        }
        // The closing quote is found wherever it falls, too.
        for length in 0..<20 {
            let text = String(repeating: "x", count: length)
            #expect(try JSONParser.parse("[\"\(text)\",1]") == [.string(text), 1])
        }
    }

    // MARK: Round trips

    @Test func roundTripsEveryKind() throws {
        let values: [JSONValue] = [
            .null, true, false, 0, -1, .int(Int64.max), .int(Int64.min), 0.1, -2.5e-300, 1.7976931348623157e308,
            .double(.leastNonzeroMagnitude), 1e16, 3.0, "", "plain", "esc\"\\\n\u{0}\u{2028}", "ünï👍", [], [:],
            ["nested": [["deep": [1, 2, ["x": .null]]]], "after": "y"],
        ]
        for value in values {
            let bytes = value.jsonBytes()
            let back = try JSONParser.parse(bytes)
            #expect(back == value, "\(value.jsonString())")
            #expect(back.jsonBytes() == bytes)
        }
    }

    @Test func randomRoundTrips() throws {
        var rng = SplitMix64(seed: 0xD06_4AD)
        for round in 0..<400 {
            let value = Self.randomValue(&rng, depth: 0)
            let bytes = value.jsonBytes()
            let back = try JSONParser.parse(bytes)
            #expect(back == value, "round \(round): \(value.jsonString())")
            // Order is part of the contract, and Equatable on objects ignores it.
            #expect(back.jsonBytes() == bytes, "round \(round)")
        }
    }

    private static func randomValue(_ rng: inout SplitMix64, depth: Int) -> JSONValue {
        let kinds = depth >= 5 ? 5 : 7
        switch Int.random(in: 0..<kinds, using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2:
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: return .int([0, 1, -1, Int64.max, Int64.min].randomElement(using: &rng)!)
            case 1: return .int(Int64.random(in: -1000...1000, using: &rng))
            default: return .int(Int64(bitPattern: rng.next()))
            }
        case 3:
            // Any finite double: Swift prints the shortest text that reads back exactly.
            var d: Double
            repeat {
                d =
                    Int.random(in: 0..<3, using: &rng) == 0
                    ? Double(Int.random(in: -1000...1000, using: &rng)) / 8
                    : Double(bitPattern: rng.next())
            } while !d.isFinite
            return .double(d)
        case 4: return .string(randomString(&rng))
        case 5:
            let count = Int.random(in: 0..<6, using: &rng)
            return .array((0..<count).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var object = JSONObject()
            // Sometimes large, to exercise the hashed key index.
            let count = Int.random(in: 0..<10, using: &rng) == 0 ? 20 : Int.random(in: 0..<6, using: &rng)
            for _ in 0..<count {
                object[randomString(&rng)] = randomValue(&rng, depth: depth + 1)
            }
            return .object(object)
        }
    }

    private static func randomString(_ rng: inout SplitMix64) -> String {
        let alphabet: [Unicode.Scalar] = [
            "a", "b", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1f}", "\u{7f}",
            "é", "ß", "中", "\u{2028}", "\u{2029}", "\u{2026}", "👍", "\u{10FFFF}", "\u{FFFD}",
        ]
        let length = Int.random(in: 0..<12, using: &rng)
        var s = String.UnicodeScalarView()
        for _ in 0..<length { s.append(alphabet.randomElement(using: &rng)!) }
        return String(s)
    }
}

/// Deterministic generator so a failing random round trip reproduces.
private struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
