/// How the dispatcher runs one handler.
public struct HandlerOptions: Sendable, Equatable {
    /// Attempts before a transiently failing delivery is dead-lettered.
    public var maxAttempts = 8
    /// Deliveries of this handler running at once.
    public var concurrency = 4
    /// Backoff: attempt n waits a random time in [0, min(cap, base * 2^(n-1))] (full jitter).
    public var backoffBase = 1.0
    public var backoffCap = 300.0
    /// How long a claimed delivery is leased; after that another start takes it back.
    public var leaseSeconds = 60.0

    public init() {}
}

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

/// What a handler may read of the process environment: variables it names, one at a
/// time, never Inlet's own credentials.
///
/// Handler factories (third-party ones included) get this instead of the environment, so
/// `INTERNAL_API_TOKEN`, `ADMIN_API_TOKEN` and the productivity secrets stay with the
/// server, and printing a handler's settings prints `<secrets>`, not every variable.
///
/// ```swift
/// guard let secret = try settings.secrets.secret("FORWARD_SECRET") else { throw HandlerUnavailable("...") }
/// ```
public struct SecretResolver: Sendable, CustomStringConvertible, CustomReflectable {
    private let environment: [String: String]

    /// Variables no handler may read (nor their `_FILE` forms).
    public static let reserved: Set<String> = [
        "INTERNAL_API_TOKEN", "ADMIN_API_TOKEN", "PRODUCTIVITY_WEBHOOK_SECRET", "PRODUCTIVITY_API_TOKEN",
    ]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// The secret in `name`, or in the file `name_FILE` names (``Configuration/secret(_:_:)``);
    /// nil when unset. Inlet's own credentials are refused.
    public func secret(_ name: String) throws -> Secret? {
        try Self.checkNotReserved(name)
        return try Configuration.secret(name, self.environment)
    }

    /// The variable `name` as set; nil when unset. Inlet's own credentials are refused.
    public func value(_ name: String) throws -> String? {
        try Self.checkNotReserved(name)
        return self.environment[name]
    }

    private static func checkNotReserved(_ name: String) throws {
        let base = name.hasSuffix("_FILE") ? String(name.dropLast("_FILE".count)) : name
        guard !Self.reserved.contains(base) else {
            throw ConfigurationError("\(name) is one of Inlet's own credentials; a handler cannot read it")
        }
    }

    public var description: String { "<secrets>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// Why a registered handler is not running; thrown by a factory.
///
/// With `waitingOn` subscriptions, deliveries are still planned for the handler and wait,
/// pending, until a start with what it lacked (Auth0 credentials, say) runs them; without,
/// the handler receives nothing while unavailable.
public struct HandlerUnavailable: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public let waitingOn: [EventPattern]?
    public init(_ reason: String, waitingOn subscriptions: [EventPattern]? = nil) {
        self.reason = reason
        self.waitingOn = subscriptions
    }
    public var description: String { self.reason }
}

/// A handler the executable knows how to build: the one place a new handler is registered.
///
/// ```swift
/// HandlerFactory(name: "audit", enabledByDefault: true) { settings, store in
///     AuditHandler(subscriptions: try settings.subscriptions(default: ["*"]))
/// }
/// ```
public struct HandlerFactory: Sendable {
    public let name: String
    /// Whether it runs when the configuration does not mention it.
    public let enabledByDefault: Bool
    public let defaultOptions: HandlerOptions
    /// Builds the handler, or throws ``HandlerUnavailable`` saying what it still needs.
    public let make: @Sendable (HandlerSettings, any InletStore) throws -> any EventHandler

    public init(
        name: String,
        enabledByDefault: Bool,
        defaultOptions: HandlerOptions = HandlerOptions(),
        make: @escaping @Sendable (HandlerSettings, any InletStore) throws -> any EventHandler
    ) {
        self.name = name
        self.enabledByDefault = enabledByDefault
        self.defaultOptions = defaultOptions
        self.make = make
    }
}

/// The handlers of this process: which run, with what options, and why the others do not.
public struct HandlerRegistry: Sendable {
    public struct Active: Sendable {
        public let handler: any EventHandler
        public let options: HandlerOptions
        public var name: String { self.handler.name }
        public var subscriptions: [EventPattern] { self.handler.subscriptions }
    }

    public struct Inactive: Sendable {
        public let name: String
        public let reason: String
        /// Subscriptions whose deliveries are planned and wait for this handler (nil: none).
        public var waitingOn: [EventPattern]? = nil
    }

    public private(set) var active: [Active] = []
    public private(set) var inactive: [Inactive] = []

    public init() {}

    /// Builds the registry from the factories and the configuration's `handlers` object.
    public init(factories: [HandlerFactory], settings: [String: JSONValue], environment: [String: String], store: any InletStore) throws {
        let known = Set(factories.map(\.name))
        for name in settings.keys.sorted() where !known.contains(name) {
            throw ConfigurationError("handlers.\(name): no handler of that name is registered (known: \(known.sorted().joined(separator: ", ")))")
        }
        for factory in factories {
            let handlerSettings = HandlerSettings(
                name: factory.name, values: settings[factory.name] ?? .object([]), secrets: SecretResolver(environment: environment)
            )
            let enabled = try handlerSettings.bool("enabled") ?? factory.enabledByDefault
            guard enabled else {
                self.inactive.append(Inactive(name: factory.name, reason: "disabled in the configuration (handlers.\(factory.name).enabled)"))
                continue
            }
            do {
                let handler = try factory.make(handlerSettings, store)
                try self.add(handler, options: handlerSettings.options(default: factory.defaultOptions))
            } catch let unavailable as HandlerUnavailable {
                self.inactive.append(Inactive(name: factory.name, reason: unavailable.reason, waitingOn: unavailable.waitingOn))
            }
        }
    }

    /// Seconds a lease must outlast a handler's own timeout: renewals run every third of
    /// the lease, and a lease no longer than the timeout could lapse while the handler runs.
    public static let leaseMargin = 1.0

    /// Adds a handler directly (tests, embedding).
    public mutating func add(_ handler: any EventHandler, options: HandlerOptions = HandlerOptions()) throws {
        guard !self.active.contains(where: { $0.name == handler.name }) else {
            throw ConfigurationError("two handlers are named \(handler.name)")
        }
        if let timeout = handler.timeoutSeconds, options.leaseSeconds <= timeout + Self.leaseMargin {
            throw ConfigurationError(
                "handlers.\(handler.name).lease_seconds (\(options.leaseSeconds)) must be longer than its timeout (\(timeout) s) "
                    + "plus \(Self.leaseMargin) s, or a delivery could be claimed again while it still runs"
            )
        }
        self.active.append(Active(handler: handler, options: options))
    }

    /// Names of the handlers that get a delivery of `type`: the running ones subscribed
    /// to it, and those waiting on it (their deliveries stay pending until they can run).
    public func subscribers(of type: String) -> [String] {
        self.active.filter { $0.subscriptions.contains { $0.matches(type) } }.map(\.name)
            + self.inactive.filter { $0.waitingOn?.contains { $0.matches(type) } == true }.map(\.name)
    }
}
