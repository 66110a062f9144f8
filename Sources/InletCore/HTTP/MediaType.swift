/// The media type of a `Content-Type` header value: what comes before any `;`, without
/// blanks, ASCII-lowercased.
///
/// Parameters (`charset=utf-8`) are dropped: JSON is UTF-8 whatever they say (RFC 8259).
///
/// ```swift
/// MediaType(contentType: "Application/JSON; charset=utf-8").isJSON   // true
/// MediaType(contentType: "text/plain").value                         // "text/plain"
/// ```
public struct MediaType: Sendable, Equatable, CustomStringConvertible {
    /// `type/subtype`, lowercased.
    public let value: String

    public init(contentType: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(contentType.utf8.count)
        for byte in contentType.utf8 {
            if byte == UInt8(ascii: ";") { break }
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { continue }
            bytes.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte)
        }
        self.value = String(decoding: bytes, as: UTF8.self)
    }

    /// `application/json` or a structured `application/<name>+json` (RFC 6839).
    public var isJSON: Bool {
        self.value == "application/json"
            || (self.value.hasPrefix("application/") && self.value.hasSuffix("+json") && self.value.utf8.count > "application/+json".utf8.count)
    }

    public var description: String { self.value }
}
