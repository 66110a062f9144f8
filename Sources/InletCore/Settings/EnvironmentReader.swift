internal import Foundation

/// Reads typed settings from environment variables, with one wording of the errors.
///
/// ```swift
/// let reader = EnvironmentReader(environment)
/// let timeout = try reader.seconds("AUTH0_REQUEST_TIMEOUT") ?? 10
/// ```
public struct EnvironmentReader: Sendable, CustomStringConvertible, CustomReflectable {
    public let environment: [String: String]

    /// It may hold secrets: printing it prints `<environment>`, never a value.
    public var description: String { "<environment>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    public init(_ environment: [String: String]) {
        self.environment = environment
    }

    /// The value with surrounding whitespace removed; nil when unset or blank.
    public func string(_ name: String) -> String? {
        guard let value = self.environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// `1/true/yes/on` or `0/false/no/off`.
    public func flag(_ name: String) throws -> Bool? {
        guard let value = self.string(name)?.lowercased() else { return nil }
        if ["1", "true", "yes", "on"].contains(value) { return true }
        if ["0", "false", "no", "off"].contains(value) { return false }
        throw ConfigurationError("\(name) must be true or false")
    }

    /// A finite number of seconds, 0 or more (more than 0 with `positive`).
    public func seconds(_ name: String, positive: Bool = false) throws -> Double? {
        guard let text = self.string(name) else { return nil }
        guard let value = Double(text), value.isFinite, positive ? value > 0 : value >= 0 else {
            throw ConfigurationError("\(name) must be a \(positive ? "positive " : "")number of seconds")
        }
        return value
    }

    /// A whole number in `range`.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = self.string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    public func secret(_ name: String) throws -> Secret? {
        try Secret.read(name, from: self.environment)
    }
}
