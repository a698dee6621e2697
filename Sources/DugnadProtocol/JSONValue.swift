/// A parsed or constructed JSON document.
///
/// Numbers are split into `int` and `double` so that identifiers and counters
/// survive a round trip exactly instead of being squeezed through `Double`.
public enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number literal with no fraction or exponent that fits in `Int64`.
    case int(Int64)
    /// Every other number (fractions, exponents, integers beyond `Int64`).
    case double(Double)
    /// A string, already unescaped.
    case string(String)
    /// An array, in document order.
    case array([JSONValue])
    /// An object, keeping its key order.
    case object(JSONObject)
}

// MARK: - Accessors

extension JSONValue {
    /// The payload of a `.string`, otherwise `nil`.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The payload of an `.int`, or a `.double` that is integral and fits in `Int64`.
    ///
    /// Doubles are accepted because some clients (notably JavaScript ones that
    /// went through arithmetic) send `5.0` where an integer is meant.
    public var int64Value: Int64? {
        switch self {
        case .int(let v): return v
        case .double(let d): return Int64(exactly: d)
        default: return nil
        }
    }

    /// The numeric payload of an `.int` or `.double` as a `Double`, otherwise `nil`.
    public var doubleValue: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let d): return d
        default: return nil
        }
    }

    /// The payload of a `.bool`, otherwise `nil`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The payload of an `.object`, otherwise `nil`.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The payload of an `.array`, otherwise `nil`.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// `true` only for `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The member named `key` if this is an object that has it, otherwise `nil`.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The element at `index` if this is an array and the index is in range, otherwise `nil`.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByStringLiteral {
    /// Creates a `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// Creates an `.int`.
    public init(integerLiteral value: Int64) { self = .int(value) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// Creates a `.double`.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// Creates a `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// Creates an `.array`.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// Creates an `.object` keeping the literal's key order; a repeated key keeps
    /// its first position and its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON encoding, which is the most useful form in logs and test failures.
    public var description: String { jsonString() }
}

// MARK: - JSONObject

/// A JSON object that keeps its keys in insertion order.
///
/// Order matters because client-supplied `meta` is echoed back to other clients
/// and should look the way its author wrote it. Keys are unique: the parser
/// rejects duplicates and the setter replaces in place.
///
/// Equality ignores key order, matching JSON semantics: two objects are equal
/// when they have the same keys mapped to equal values. Compare `keys` as well
/// when order matters.
public struct JSONObject: Sendable {
    /// Keys in insertion order.
    public private(set) var keys: [String]
    /// Values, parallel to `keys`.
    public private(set) var values: [JSONValue]
    /// Key -> position. Only maintained above `linearLimit` entries: client
    /// objects are usually tiny, and scanning a handful of short strings is
    /// cheaper than hashing every key into a dictionary on each parse.
    private var index: [String: Int]

    /// Largest size that is searched linearly instead of through `index`.
    static let linearLimit = 12

    /// Creates an empty object.
    public init() {
        keys = []
        values = []
        index = [:]
    }

    /// Creates an object from pairs in order. A repeated key keeps its first
    /// position and its last value, like repeated subscript assignment.
    public init(_ pairs: [(String, JSONValue)]) {
        self.init()
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        for (k, v) in pairs { self[k] = v }
    }

    /// Adopts members the parser has already checked for uniqueness, along with
    /// the key index it built while checking (empty for small objects).
    init(uniqueKeys keys: [String], values: [JSONValue], index: [String: Int]) {
        self.keys = keys
        self.values = values
        self.index = keys.count > Self.linearLimit ? index : [:]
    }

    /// The number of members.
    public var count: Int { keys.count }

    /// `true` when the object has no members.
    public var isEmpty: Bool { keys.isEmpty }

    /// Members in order.
    public var pairs: [(String, JSONValue)] { Array(zip(keys, values)) }

    /// Looks up, replaces, appends (new key) or removes (`nil`) a member.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = position(of: key) else { return nil }
            return values[i]
        }
        set {
            if let newValue {
                if let i = position(of: key) {
                    values[i] = newValue
                } else {
                    appendNew(key, newValue)
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// `true` if a member named `key` exists.
    public func containsKey(_ key: String) -> Bool {
        position(of: key) != nil
    }

    /// Removes the member named `key`, returning its value. O(n) because later
    /// members shift down to keep order.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let i = position(of: key) else { return nil }
        keys.remove(at: i)
        let old = values.remove(at: i)
        rebuildIndex()
        return old
    }

    private mutating func appendNew(_ key: String, _ value: JSONValue) {
        keys.append(key)
        values.append(value)
        if keys.count > Self.linearLimit {
            if index.isEmpty {
                rebuildIndex()
            } else {
                index[key] = keys.count - 1
            }
        }
    }

    private func position(of key: String) -> Int? {
        if keys.count > Self.linearLimit {
            return index[key]
        }
        for i in keys.indices where keys[i] == key {
            return i
        }
        return nil
    }

    private mutating func rebuildIndex() {
        guard keys.count > Self.linearLimit else {
            index = [:]
            return
        }
        var fresh = [String: Int](minimumCapacity: keys.count)
        for (i, k) in keys.enumerated() { fresh[k] = i }
        index = fresh
    }
}

extension JSONObject: Equatable {
    /// Order-insensitive: same key set, equal values per key.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        // Common case (parsed vs. re-parsed) has identical order; skip lookups.
        if lhs.keys == rhs.keys { return lhs.values == rhs.values }
        for (i, k) in lhs.keys.enumerated() {
            guard let other = rhs[k], other == lhs.values[i] else { return false }
        }
        return true
    }
}

extension JSONObject: Sequence {
    /// Iterates members in order without materialising `pairs`.
    public func makeIterator() -> Zip2Sequence<[String], [JSONValue]>.Iterator {
        zip(keys, values).makeIterator()
    }

    /// Exact, since the member count is known.
    public var underestimatedCount: Int { keys.count }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Creates an object keeping the literal's key order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}
