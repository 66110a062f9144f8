internal import CJansson

/// A JSON value held in Swift, for building responses and outbound payloads.
///
/// Objects keep their members in the order written, and serialisation goes through
/// jansson, so every byte Inlet emits is produced by the same library that parses.
///
/// ```swift
/// let body: JSONValue = ["success": true, "user_id": .int(42), "created": false]
/// let bytes = body.serialized()   // {"success":true,"user_id":42,"created":false}
/// ```
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The member `key` of an object (nil for other values or an absent key).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var intValue: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// A string, or null when `value` is nil.
    public static func string(_ value: String?) -> JSONValue {
        value.map(JSONValue.string) ?? .null
    }

    /// Compact UTF-8 serialisation.
    public func serialized() -> [UInt8] {
        let pointer = self.makeJansson()
        defer { CJansson_decref(pointer) }
        return Self.dump(pointer)
    }

    /// Compact serialisation as a String.
    public var serializedString: String {
        String(decoding: self.serialized(), as: UTF8.self)
    }

    /// A new jansson value with one reference, owned by the caller.
    func makeJansson() -> UnsafeMutablePointer<json_t> {
        switch self {
        case .null: return json_null()
        case .bool(let value): return value ? json_true() : json_false()
        case .int(let value): return json_integer(json_int_t(value))
        case .double(let value): return json_real(value) ?? json_null()
        case .string(let value):
            if value.isEmpty { return json_string("") }
            var text = value
            let made = text.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { json_stringn_nocheck($0.baseAddress, $0.count) }
            }
            return made ?? json_null()
        case .array(let elements):
            let array = json_array()!
            for element in elements {
                json_array_append_new(array, element.makeJansson())
            }
            return array
        case .object(let members):
            let object = json_object()!
            for (key, value) in members {
                // set_new steals the reference even when it fails.
                _ = key.withCString { json_object_set_new_nocheck(object, $0, value.makeJansson()) }
            }
            return object
        }
    }

    static func dump(_ pointer: UnsafeMutablePointer<json_t>) -> [UInt8] {
        let flags = Int(JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)
        var capacity = 256
        while true {
            var output = [UInt8](repeating: 0, count: capacity)
            let needed = output.withUnsafeMutableBytes { raw in
                json_dumpb(pointer, raw.baseAddress?.assumingMemoryBound(to: CChar.self), capacity, flags)
            }
            if needed <= capacity {
                output.removeLast(capacity - needed)
                return output
            }
            capacity = needed
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByNilLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements) }
}
