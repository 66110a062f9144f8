/// A request body or document that is not the JSON Inlet expects.
///
/// The message is written for the caller ("`auth0Id` must be a string") and never
/// carries the document itself, so it can go into an HTTP response as it is.
///
/// ```swift
/// do { let doc = try JSONDocument.parse(bytes) } catch let error as JSONError { print(error.message) }
/// ```
public struct JSONError: Error, CustomStringConvertible, Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case syntax
        case tooDeep
        case tooLarge
        case wrongType
        case missingField
    }

    let kind: Kind
    /// Human text suitable for an error response.
    public let message: String

    public var description: String { self.message }

    /// The bytes are not JSON (jansson's own reason, line and column).
    public static func syntax(_ message: String) -> JSONError { .init(kind: .syntax, message: message) }
    /// The document nests deeper than allowed.
    public static func tooDeep(limit: Int) -> JSONError {
        .init(kind: .tooDeep, message: "JSON nesting deeper than \(limit) levels")
    }
    /// The document is larger than allowed.
    public static func tooLarge(limit: Int) -> JSONError {
        .init(kind: .tooLarge, message: "JSON document larger than \(limit) bytes")
    }
    /// A field has a type other than the one required.
    public static func wrongType(_ path: String, expected: String) -> JSONError {
        .init(kind: .wrongType, message: "`\(path)` must be \(expected)")
    }
    /// A required field is absent (or null).
    public static func missingField(_ path: String) -> JSONError {
        .init(kind: .missingField, message: "`\(path)` is required")
    }

    public var isMissingField: Bool { self.kind == .missingField }
    /// The text is not JSON (as opposed to JSON of the wrong shape or size).
    package var isSyntax: Bool { self.kind == .syntax }
}
