internal import Foundation

/// A secret value: it prints as `<redacted>`, so it cannot reach a log line by accident.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The value itself; read it only to compare or to send it where it belongs.
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    /// No children, so `dump` of a value holding a secret does not print it either.
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    /// The secret in `name`, or in the file `name_FILE` names (trailing newline removed);
    /// nil when neither is set.
    public static func read(_ name: String, from environment: [String: String]) throws -> Secret? {
        if let value = environment[name], !value.isEmpty {
            return Secret(value)
        }
        guard let path = environment["\(name)_FILE"], !path.isEmpty else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("\(name)_FILE names a file that cannot be read: \(path)")
        }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        guard !value.isEmpty else { throw ConfigurationError("\(name)_FILE names an empty file: \(path)") }
        return Secret(value)
    }
}
