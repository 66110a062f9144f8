/// The settings of one handler from the configuration file's `handlers` object.
///
/// ```json
/// "handlers": {"command": {"enabled": true, "program": "/usr/local/bin/on-event", "subscriptions": ["employee.*"],
///                          "max_attempts": 5, "concurrency": 2}}
/// ```
public struct HandlerSettings: Sendable {
    public let name: String
    /// The handler's object from the file (empty when the file says nothing of it).
    public let values: JSONValue
    /// The secrets and variables the handler names (`secret_env`, `AUTH0_*`), one at a time.
    public let secrets: SecretResolver

    public init(name: String, values: JSONValue = .object([]), secrets: SecretResolver = SecretResolver(environment: [:])) {
        self.name = name
        self.values = values
        self.secrets = secrets
    }

    public func string(_ key: String) throws -> String? {
        guard let value = self.values[key], value != .null else { return nil }
        guard let text = value.stringValue else { throw ConfigurationError("handlers.\(self.name).\(key) must be a string") }
        return text
    }

    public func number(_ key: String) throws -> Double? {
        switch self.values[key] {
        case nil, .null?: return nil
        case .int(let value)?: return Double(value)
        case .double(let value)?: return value
        default: throw ConfigurationError("handlers.\(self.name).\(key) must be a number")
        }
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let value = self.values[key], value != .null else { return nil }
        guard let flag = value.boolValue else { throw ConfigurationError("handlers.\(self.name).\(key) must be true or false") }
        return flag
    }

    public func strings(_ key: String) throws -> [String]? {
        guard let value = self.values[key], value != .null else { return nil }
        guard case .array(let items) = value, items.allSatisfy({ $0.stringValue != nil }) else {
            throw ConfigurationError("handlers.\(self.name).\(key) must be an array of strings")
        }
        return items.compactMap(\.stringValue)
    }

    /// `subscriptions` from the file, else `defaults`.
    public func subscriptions(default defaults: [EventPattern]) throws -> [EventPattern] {
        try self.strings("subscriptions").map { $0.map { EventPattern($0) } } ?? defaults
    }

    /// The dispatcher options from the file over the defaults.
    public func options(default defaults: HandlerOptions = HandlerOptions()) throws -> HandlerOptions {
        var options = defaults
        if let value = try self.number("max_attempts") { options.maxAttempts = max(1, Int(value)) }
        if let value = try self.number("concurrency") { options.concurrency = max(1, Int(value)) }
        if let value = try self.number("backoff_base_seconds") { options.backoffBase = max(0, value) }
        if let value = try self.number("backoff_cap_seconds") { options.backoffCap = max(0, value) }
        if let value = try self.number("lease_seconds") { options.leaseSeconds = max(1, value) }
        return options
    }
}
