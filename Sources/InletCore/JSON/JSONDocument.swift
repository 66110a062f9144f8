internal import CJansson

/// A parsed JSON document, owned: the jansson tree is freed with the document.
///
/// Parsing is bounded twice before jansson sees the bytes: by size and by nesting depth,
/// so a hostile body cannot make the parser recurse or allocate without limit. Duplicate
/// keys and NUL characters inside strings are rejected (two readers of one document must
/// never see two different values).
///
/// The document is not `Sendable`: it lives in the request handler that parsed it.
///
/// ```swift
/// let document = try JSONDocument.parse(bytes, limits: .init(maxBytes: 65_536, maxDepth: 32))
/// let root = try document.root.requireObject()
/// let id = try root.requiredString("auth0Id")
/// let email = try root.string("email")   // nil when absent or null
/// ```
public final class JSONDocument {
    /// Size and depth bounds applied before parsing.
    public struct Limits: Sendable {
        public var maxBytes: Int
        public var maxDepth: Int
        public init(maxBytes: Int = 1 << 20, maxDepth: Int = 32) {
            self.maxBytes = maxBytes
            self.maxDepth = maxDepth
        }
    }

    let pointer: UnsafeMutablePointer<json_t>

    private init(pointer: UnsafeMutablePointer<json_t>) {
        self.pointer = pointer
    }

    deinit {
        CJansson_decref(self.pointer)
    }

    /// The top-level value.
    public var root: JSONNode { JSONNode(document: self, pointer: self.pointer, path: "") }

    /// Parses `bytes` as one JSON value (of any type) within `limits`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: Limits = .init()) throws(JSONError) -> JSONDocument {
        guard bytes.count <= limits.maxBytes else { throw .tooLarge(limit: limits.maxBytes) }
        guard nestingDepthIsWithin(bytes, limit: limits.maxDepth) else { throw .tooDeep(limit: limits.maxDepth) }
        var error = json_error_t()
        let flags = Int(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)
        let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
        guard let base, let pointer = json_loadb(base, bytes.count, flags, &error) else {
            if bytes.isEmpty { throw .syntax("the body is empty; a JSON document is required") }
            throw .syntax(syntaxMessage(error))
        }
        return JSONDocument(pointer: pointer)
    }

    /// Parses a byte array; see ``parse(_:limits:)-(UnsafeRawBufferPointer,_)``.
    public static func parse(_ bytes: [UInt8], limits: Limits = .init()) throws(JSONError) -> JSONDocument {
        let result: Result<JSONDocument, JSONError> = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONError) -> JSONDocument in try parse(buffer, limits: limits) }
        }
        return try result.get()
    }

    /// Parses the UTF-8 of a string.
    public static func parse(_ text: String, limits: Limits = .init()) throws(JSONError) -> JSONDocument {
        try parse(Array(text.utf8), limits: limits)
    }

    private static func syntaxMessage(_ error: json_error_t) -> String {
        var copy = error
        let text = withUnsafeBytes(of: &copy.text) { raw -> String in
            let bytes = raw.bindMemory(to: UInt8.self)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: bytes[..<end], as: UTF8.self)
        }
        return "malformed JSON: \(text) (line \(error.line), column \(error.column))"
    }

    /// Counts bracket nesting outside strings; true when it never exceeds `limit`.
    /// A linear scan, cheaper than letting a recursive parser find out.
    static func nestingDepthIsWithin(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Bool {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return true }
        let count = bytes.count
        var depth = 0
        var index = 0
        while index < count {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                // Skip the string: up to the closing quote, a backslash taking the next byte
                // with it. Eight bytes at a time while none is a quote or a backslash.
                index &+= 1
                while index < count {
                    if count &- index >= 8 {
                        let word = UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                        let mask = quoteOrBackslashMask(word)
                        if mask == 0 {
                            index &+= 8
                            continue
                        }
                        index &+= mask.trailingZeroBitCount >> 3  // the first such byte
                    }
                    let inner = base[index]
                    if inner == UInt8(ascii: "\"") { break }
                    index &+= inner == UInt8(ascii: "\\") ? 2 : 1
                }
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                depth += 1
                if depth > limit { return false }
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                depth -= 1
            }
            index &+= 1
        }
        return true
    }

    /// Whether `bytes`, if a JSON array, has at most `limit` elements: commas outside
    /// strings at depth one are counted, before any parser builds the elements. Anything
    /// else passes (the parser judges it).
    ///
    /// ```swift
    /// guard JSONDocument.arrayHasAtMost(10_000, elements: bytes) else { throw tooMany }
    /// ```
    public static func arrayHasAtMost(_ limit: Int, elements bytes: UnsafeRawBufferPointer) -> Bool {
        let blanks: [UInt8] = [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")]
        guard bytes.first(where: { !blanks.contains($0) }) == UInt8(ascii: "[") else { return true }
        var depth = 0
        var commas = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            case UInt8(ascii: ",") where depth == 1:
                commas += 1
                // n commas separate n + 1 elements.
                if commas >= limit { return false }
            default: break
            }
        }
        return true
    }

    /// The high bit of each byte of `word` (first byte in the low bits) that is `"` or `\`;
    /// zero when there is none. Bits above the lowest may be spurious; the lowest is exact.
    @inline(__always)
    private static func quoteOrBackslashMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
        let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
        return ((quotes &- ones) & ~quotes | (backslashes &- ones) & ~backslashes) & (ones &* 0x80)
    }
}

/// A value inside a ``JSONDocument``; it keeps its document alive.
///
/// Typed accessors read members of an object and throw ``JSONError`` naming the field
/// when its type is wrong. Absent and `null` members read as `nil`.
public struct JSONNode {
    let document: JSONDocument
    let pointer: UnsafeMutablePointer<json_t>
    /// Dotted path of this value from the root, for error messages ("" for the root).
    public let path: String

    init(document: JSONDocument, pointer: UnsafeMutablePointer<json_t>, path: String) {
        self.document = document
        self.pointer = pointer
        self.path = path
    }

    public var isObject: Bool { CJansson_typeof(self.pointer) == Int32(JSON_OBJECT.rawValue) }
    public var isArray: Bool { CJansson_typeof(self.pointer) == Int32(JSON_ARRAY.rawValue) }

    /// The elements of an array, in order (none for other values).
    public var elements: [JSONNode] {
        guard self.isArray else { return [] }
        return (0..<json_array_size(self.pointer)).compactMap { index in
            json_array_get(self.pointer, index).map { JSONNode(document: self.document, pointer: $0, path: "\(self.path)[\(index)]") }
        }
    }

    /// This value, required to be an object.
    public func requireObject() throws(JSONError) -> JSONNode {
        guard self.isObject else { throw .wrongType(self.path.isEmpty ? "body" : self.path, expected: "a JSON object") }
        return self
    }

    private func fieldPath(_ key: String) -> String {
        self.path.isEmpty ? key : "\(self.path).\(key)"
    }

    /// The member `key`, or nil when absent or null.
    private func member(_ key: String) -> UnsafeMutablePointer<json_t>? {
        // withCString: a short (small-string) key is copied to the stack; the implicit
        // String-to-pointer conversion would allocate a C copy on the heap for each lookup.
        guard let child = key.withCString({ json_object_get(self.pointer, $0) }) else { return nil }
        return CJansson_typeof(child) == Int32(JSON_NULL.rawValue) ? nil : child
    }

    /// Whether the object has a member `key` (even a null one).
    public func contains(_ key: String) -> Bool {
        key.withCString { json_object_get(self.pointer, $0) } != nil
    }

    /// A string member; nil when absent or null.
    public func string(_ key: String) throws(JSONError) -> String? {
        guard let child = self.member(key) else { return nil }
        guard let text = Self.stringValue(child) else { throw .wrongType(self.fieldPath(key), expected: "a string") }
        return text
    }

    /// A string member that must be present and not empty.
    public func requiredString(_ key: String) throws(JSONError) -> String {
        guard let value = try self.string(key) else { throw .missingField(self.fieldPath(key)) }
        guard !value.isEmpty else { throw .wrongType(self.fieldPath(key), expected: "a non-empty string") }
        return value
    }

    /// A boolean member; nil when absent or null.
    public func bool(_ key: String) throws(JSONError) -> Bool? {
        guard let child = self.member(key) else { return nil }
        switch CJansson_typeof(child) {
        case Int32(JSON_TRUE.rawValue): return true
        case Int32(JSON_FALSE.rawValue): return false
        default: throw .wrongType(self.fieldPath(key), expected: "a boolean")
        }
    }

    /// An integer member; nil when absent or null.
    public func int(_ key: String) throws(JSONError) -> Int? {
        guard let child = self.member(key) else { return nil }
        guard CJansson_typeof(child) == Int32(JSON_INTEGER.rawValue) else {
            throw .wrongType(self.fieldPath(key), expected: "an integer")
        }
        return Int(json_integer_value(child))
    }

    /// An object member; nil when absent or null.
    public func object(_ key: String) throws(JSONError) -> JSONNode? {
        guard let child = self.member(key) else { return nil }
        let node = JSONNode(document: self.document, pointer: child, path: self.fieldPath(key))
        guard node.isObject else { throw .wrongType(node.path, expected: "an object") }
        return node
    }

    /// The whole subtree as a ``JSONValue``.
    public var value: JSONValue { Self.convert(self.pointer) }

    /// Compact serialisation of this subtree, keys in document order.
    public func serialized() -> [UInt8] {
        JSONValue.dump(self.pointer)
    }

    static func stringValue(_ pointer: UnsafeMutablePointer<json_t>) -> String? {
        guard CJansson_typeof(pointer) == Int32(JSON_STRING.rawValue), let base = json_string_value(pointer) else {
            return nil
        }
        let length = json_string_length(pointer)
        return String(decoding: UnsafeRawBufferPointer(start: base, count: length), as: UTF8.self)
    }

    static func convert(_ pointer: UnsafeMutablePointer<json_t>) -> JSONValue {
        switch CJansson_typeof(pointer) {
        case Int32(JSON_OBJECT.rawValue):
            var members: [(String, JSONValue)] = []
            members.reserveCapacity(json_object_size(pointer))
            var iterator = json_object_iter(pointer)
            while let current = iterator {
                let keyLength = json_object_iter_key_len(current)
                let key = String(decoding: UnsafeRawBufferPointer(start: json_object_iter_key(current), count: keyLength), as: UTF8.self)
                if let child = json_object_iter_value(current) {
                    members.append((key, convert(child)))
                }
                iterator = json_object_iter_next(pointer, current)
            }
            return .object(members)
        case Int32(JSON_ARRAY.rawValue):
            return .array((0..<json_array_size(pointer)).compactMap { index in
                json_array_get(pointer, index).map(convert)
            })
        case Int32(JSON_STRING.rawValue):
            return .string(stringValue(pointer) ?? "")
        case Int32(JSON_INTEGER.rawValue):
            return .int(Int(json_integer_value(pointer)))
        case Int32(JSON_REAL.rawValue):
            return .double(json_real_value(pointer))
        case Int32(JSON_TRUE.rawValue):
            return .bool(true)
        case Int32(JSON_FALSE.rawValue):
            return .bool(false)
        default:
            return .null
        }
    }
}
