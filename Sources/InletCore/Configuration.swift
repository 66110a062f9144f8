internal import Foundation

/// A secret value: it prints as `<redacted>`, so it cannot reach a log line by accident.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The value itself; read it only to compare or to send it where it belongs.
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}

/// A setting that cannot be used, named in the message, its value never echoed.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

/// Everything `inlet serve` can be told.
///
/// Receiver settings come from an optional JSON file, then from the environment, which
/// wins. Secrets come only from the environment, or from a file named by `NAME_FILE`.
///
/// ```swift
/// var configuration = try Configuration.load(environment: ProcessInfo.processInfo.environment)
/// configuration.listenPort = 0   // an ephemeral port, for tests
/// ```
public struct Configuration: Sendable {
    public var listenHost = "127.0.0.1"
    public var listenPort = 8080
    public var databasePath = "./data/inlet.sqlite"
    /// Largest request body accepted, in bytes.
    public var bodyLimit = 65_536
    /// Deepest JSON nesting accepted in a request body.
    public var jsonMaxDepth = 32
    public var synchronous = SQLiteSynchronous.full
    public var logLevel = "info"
    /// Bearer token of the Auth0 Post-Login Action; nil disables the route.
    public var internalAPIToken: Secret?
    /// Bearer token of the operators' admin API; nil disables it.
    public var adminAPIToken: Secret?
    /// Standard Webhooks secret(s) of the productivity system (`whsec_...`, space-separated
    /// during a rotation).
    public var productivityWebhookSecret: Secret?
    /// Bearer token for a productivity sender that cannot sign.
    public var productivityAPIToken: Secret?
    /// Accept productivity events of types Inlet does not know (stored and dispatched).
    public var acceptUnknownEventTypes = false
    /// Each handler's object from the config file's `handlers`.
    public var handlerSettings: [String: JSONValue] = [:]
    /// The environment the configuration was read from (handlers read named secrets).
    public var environment: [String: String] = [:]

    public init() {}

    /// The settings, their environment names and config-file keys, for `--help` and the README.
    public static let settingsHelp = """
        Settings (environment variable, or key in the JSON file given by --config / INLET_CONFIG;
        the environment wins):
          INLET_LISTEN           listen     host:port to listen on (default 127.0.0.1:8080)
          INLET_DATABASE         database   SQLite file (default ./data/inlet.sqlite)
          INLET_BODY_LIMIT       body_limit largest request body in bytes (default 65536)
          INLET_JSON_MAX_DEPTH   json_max_depth  deepest JSON nesting accepted (default 32)
          INLET_DB_SYNCHRONOUS   synchronous     full (default; a commit survives power loss) or normal
          INLET_LOG_LEVEL        log_level  trace, debug, info (default), notice, warning, error
          INLET_ACCEPT_UNKNOWN_TYPES  accept_unknown_types  true to accept productivity event types
                                 other than employee.created/updated/deactivated (default false)
          -                      handlers   per-handler settings: {"audit": {"enabled": true},
                                 "command": {"program": "/path", "arguments": [], "timeout_seconds": 30},
                                 "forward": {"url": "https://...", "secret_env": "NAME"}}; each also takes
                                 subscriptions, max_attempts, concurrency, backoff_base_seconds,
                                 backoff_cap_seconds, lease_seconds
        Secrets (environment only, or NAME_FILE naming a file that holds the value):
          INTERNAL_API_TOKEN     bearer token of the Auth0 Post-Login Action for
                                 POST /internal/auth/sync-user; unset disables that route
          PRODUCTIVITY_WEBHOOK_SECRET  Standard Webhooks secret (whsec_...) of POST /hooks/productivity;
                                 several, space-separated, during a rotation
          PRODUCTIVITY_API_TOKEN bearer token for /hooks/productivity when the sender cannot sign
          ADMIN_API_TOKEN        bearer token of /admin/*; unset disables the admin API
        """

    private static let fileKeys: Set<String> = [
        "listen", "database", "body_limit", "json_max_depth", "synchronous", "log_level", "accept_unknown_types", "handlers",
    ]

    /// Reads the optional config file, then the environment.
    public static func load(environment: [String: String], configFile: String? = nil) throws -> Configuration {
        var configuration = Configuration()
        if let path = configFile ?? environment["INLET_CONFIG"] {
            try configuration.apply(file: path)
        }
        try configuration.apply(environment: environment)
        return configuration
    }

    mutating func apply(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read the config file \(path)")
        }
        let document: JSONDocument
        do {
            document = try JSONDocument.parse([UInt8](data))
        } catch {
            throw ConfigurationError("the config file \(path) is not valid JSON: \(error.message)")
        }
        let root = try document.root.requireObject()
        guard case .object(let members) = root.value else { return }
        for (key, _) in members where !Self.fileKeys.contains(key) {
            if key.lowercased().contains("token") || key.lowercased().contains("secret") {
                throw ConfigurationError("the config file \(path) names `\(key)`: secrets are read only from the environment")
            }
            throw ConfigurationError("the config file \(path) has an unknown setting `\(key)`")
        }
        if let listen = try root.string("listen") { try self.setListen(listen, source: "listen") }
        if let database = try root.string("database") { self.databasePath = database }
        if let limit = try root.int("body_limit") { self.bodyLimit = try Self.positive(limit, "body_limit") }
        if let depth = try root.int("json_max_depth") { self.jsonMaxDepth = try Self.positive(depth, "json_max_depth") }
        if let synchronous = try root.string("synchronous") { self.synchronous = try Self.synchronous(synchronous, "synchronous") }
        if let level = try root.string("log_level") { self.logLevel = level }
        if let accept = try root.bool("accept_unknown_types") { self.acceptUnknownEventTypes = accept }
        if let handlers = try root.object("handlers") {
            guard case .object(let members) = handlers.value else { return }
            for (name, value) in members {
                guard case .object = value else { throw ConfigurationError("handlers.\(name) must be an object") }
                self.handlerSettings[name] = value
            }
        }
    }

    mutating func apply(environment: [String: String]) throws {
        if let listen = environment["INLET_LISTEN"] { try self.setListen(listen, source: "INLET_LISTEN") }
        if let database = environment["INLET_DATABASE"] { self.databasePath = database }
        if let limit = environment["INLET_BODY_LIMIT"] { self.bodyLimit = try Self.positive(Int(limit), "INLET_BODY_LIMIT") }
        if let depth = environment["INLET_JSON_MAX_DEPTH"] {
            self.jsonMaxDepth = try Self.positive(Int(depth), "INLET_JSON_MAX_DEPTH")
        }
        if let synchronous = environment["INLET_DB_SYNCHRONOUS"] {
            self.synchronous = try Self.synchronous(synchronous, "INLET_DB_SYNCHRONOUS")
        }
        if let level = environment["INLET_LOG_LEVEL"] { self.logLevel = level }
        if let accept = environment["INLET_ACCEPT_UNKNOWN_TYPES"] { self.acceptUnknownEventTypes = ["1", "true", "yes"].contains(accept.lowercased()) }
        self.internalAPIToken = try Self.secret("INTERNAL_API_TOKEN", environment)
        self.adminAPIToken = try Self.secret("ADMIN_API_TOKEN", environment)
        self.productivityWebhookSecret = try Self.secret("PRODUCTIVITY_WEBHOOK_SECRET", environment)
        self.productivityAPIToken = try Self.secret("PRODUCTIVITY_API_TOKEN", environment)
        self.environment = environment
    }

    /// Parses `host:port` into the listen address.
    public mutating func setListen(_ text: String, source: String = "listen") throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else {
            throw ConfigurationError("\(source) must be host:port, such as 127.0.0.1:8080")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        self.listenHost = host.isEmpty ? "127.0.0.1" : host
        self.listenPort = port
    }

    /// A secret from `NAME`, or from the file named by `NAME_FILE` (trailing newline removed).
    public static func secret(_ name: String, _ environment: [String: String]) throws -> Secret? {
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

    private static func positive(_ value: Int?, _ name: String) throws -> Int {
        guard let value, value > 0 else { throw ConfigurationError("\(name) must be a positive whole number") }
        return value
    }

    private static func synchronous(_ text: String, _ name: String) throws -> SQLiteSynchronous {
        guard let value = SQLiteSynchronous(rawValue: text.lowercased()) else {
            throw ConfigurationError("\(name) must be one of: full, normal")
        }
        return value
    }
}
