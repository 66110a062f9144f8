internal import Hummingbird
internal import InletCore
internal import NIOCore

/// The fields of a console form (`application/x-www-form-urlencoded`), read with a small
/// size limit: console forms hold a token and a few names.
///
/// ```swift
/// let form = try await ConsoleForm.read(request)
/// let handler = form["handler"]
/// ```
struct ConsoleForm: Sendable {
    private let fields: [(name: String, value: String)]

    /// Most bytes a console form may have.
    static let maxBytes = 16 * 1024

    init(parsing text: String) {
        var fields: [(String, String)] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            fields.append((Self.decode(parts[0]), parts.count > 1 ? Self.decode(parts[1]) : ""))
        }
        self.fields = fields
    }

    /// The first value of `name`; nil when the form has none.
    subscript(_ name: String) -> String? {
        self.fields.first { $0.name == name }?.value
    }

    /// Reads the request's form body.
    static func read(_ request: Request) async throws -> ConsoleForm {
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/x-www-form-urlencoded") {
            throw APIError.unsupportedMediaType("a console form is application/x-www-form-urlencoded")
        }
        let buffer = try await request.body.collect(upTo: Self.maxBytes)
        return ConsoleForm(parsing: String(buffer: buffer))
    }

    /// `+` as space (in forms), `%XX` as its byte; a malformed escape is kept as written.
    static func decode(_ text: Substring, plusIsSpace: Bool = true) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            switch byte {
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                if iterator.count >= 2, let high = hexDigitValue(iterator[iterator.startIndex]),
                    let low = hexDigitValue(iterator[iterator.startIndex + 1])
                {
                    bytes.append(high << 4 | low)
                    iterator = iterator.dropFirst(2)
                } else {
                    bytes.append(byte)
                }
            default:
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
