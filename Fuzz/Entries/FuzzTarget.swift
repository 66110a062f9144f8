
/// The parsers that read untrusted bytes, each as one fuzz entry.
///
/// The same entries run under libFuzzer (`inlet-fuzz`, built by `scripts/fuzz.sh`) and in
/// the test suite, which replays every file of `Fuzz/corpus/<target>/` through them, so a
/// crashing input kept there fails CI. An entry returns when the parser accepted or refused
/// the input as it should, and throws ``FuzzFailure`` when a property that must hold did
/// not (a round trip, a limit); a crash or a sanitizer report is a failure too.
///
/// ```swift
/// try FuzzTarget.json.run(bytes)
/// ```
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `JSONDocument.parse` with its size and depth bounds, then the request readers.
    case json
    /// The JWT compact serialisation: splitting, base64url, header and claim checks.
    case jwt
    /// Standard Webhooks: secret parsing, the signature header, timestamps.
    case webhooks
    /// The strict base64 codecs, standard and URL-safe.
    case base64
    /// The `Content-Type` parser.
    case contentType = "content-type"

    public func run(_ input: UnsafeRawBufferPointer) throws(FuzzFailure) {
        switch self {
        case .json: try JSONEntry.run(input)
        case .jwt: try JWTEntry.run(input)
        case .webhooks: try WebhooksEntry.run(input)
        case .base64: try Base64Entry.run(input)
        case .contentType: try ContentTypeEntry.run(input)
        }
    }

    public func run(_ input: [UInt8]) throws(FuzzFailure) {
        let result = input.withUnsafeBytes { bytes in Result { () throws(FuzzFailure) in try self.run(bytes) } }
        try result.get()
    }
}

/// A property of a parser that did not hold for an input.
public struct FuzzFailure: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

/// Splits `input` at the first `count - 1` newlines: the fields of a structured input,
/// the last one taking the rest.
func fields(_ input: UnsafeRawBufferPointer, count: Int) -> [ArraySlice<UInt8>] {
    var parts: [ArraySlice<UInt8>] = []
    let bytes = Array(input)
    var start = 0
    while parts.count < count - 1, let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
        parts.append(bytes[start..<newline])
        start = newline + 1
    }
    parts.append(bytes[start...])
    while parts.count < count { parts.append([]) }
    return parts
}

func text(_ bytes: ArraySlice<UInt8>) -> String {
    String(decoding: bytes, as: UTF8.self)
}
