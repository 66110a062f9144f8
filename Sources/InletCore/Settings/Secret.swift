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

/// A setting that cannot be used, named in the message, its value never echoed.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

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

/// Which URLs Inlet sends to or fetches from.
public enum URLPolicy {
    /// Whether `url` is `https://`, or `http://` to a loopback address (`localhost`,
    /// `127.x.y.z`, `[::1]`), where nothing travels on a network.
    public static func isHTTPSOrLoopback(_ url: String) -> Bool {
        let lowered = url.lowercased()
        if lowered.hasPrefix("https://") { return true }
        guard lowered.hasPrefix("http://") else { return false }
        let rest = lowered.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("@") else { return false }
        let host: Substring
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
        } else {
            host = authority.prefix { $0 != ":" }
        }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        let loopbackIPv4 = octets.count == 4 && octets.first == "127"
            && octets.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }
        return host == "localhost" || host == "::1" || loopbackIPv4
    }
}
