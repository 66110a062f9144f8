public import Logging

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

/// A handler the executable knows how to build: the one place a handler is registered.
///
/// Its name is the handler type's ``EventHandler/name``, so the deliveries planned for it
/// (even while it waits) are always the ones it claims.
///
/// ```swift
/// HandlerFactory(AuditHandler.self) { setup in
///     AuditHandler(subscriptions: try setup.settings.subscriptions(default: ["*"]))
/// }
/// ```
public struct HandlerFactory: Sendable {
    public let name: String
    /// Whether it runs when the configuration does not mention it.
    public let enabledByDefault: Bool
    public let defaultOptions: HandlerOptions
    /// The environment settings it reads, by section (listed in `inlet serve --help` and
    /// the README).
    public let settings: [SettingsSection]
    /// Builds the handler, or throws ``HandlerUnavailable`` saying what it still needs.
    let make: @Sendable (HandlerSetup) throws -> any EventHandler

    public init<Handler: EventHandler>(
        _ type: Handler.Type,
        enabledByDefault: Bool = true,
        defaultOptions: HandlerOptions = HandlerOptions(),
        settings: [SettingsSection] = [],
        make: @escaping @Sendable (HandlerSetup) throws -> Handler
    ) {
        self.name = Handler.name
        self.enabledByDefault = enabledByDefault
        self.defaultOptions = defaultOptions
        self.settings = settings
        self.make = { setup in try make(setup) }
    }

    /// Builds the handler as `inlet serve` does, or throws ``HandlerUnavailable`` saying
    /// what it still needs: for the tests of a package that defines its own factory.
    ///
    /// ```swift
    /// let handler = try StarterLogHandler.factory.build(HandlerSetup(settings: HandlerSettings(name: "starter-log", values: ["path": "/tmp/x"])))
    /// ```
    public func build(_ setup: HandlerSetup) throws -> any EventHandler {
        try self.make(setup)
    }
}

/// What a factory builds its handler from: its settings, the secrets it may read, the
/// clock and a logger, and only the stores it asks for.
public struct HandlerSetup: Sendable {
    /// The handler's object from the configuration file, and its secrets.
    public let settings: HandlerSettings
    public let clock: WallClock
    public let logger: Logger
    /// Values shared with the other instances on the same database (PostgreSQL); nil when
    /// this process is the only one (SQLite), whose memory then holds the whole picture.
    public let sharedValues: (any SharedValueStore)?
    private let employeeStore: (any EmployeeStore)?
    private let userStore: (any UserStore)?

    /// A setup with the stores a test gives (`inlet serve` gives its database's).
    public init(
        settings: HandlerSettings, clock: WallClock = .system, logger: Logger = Logger(label: "inlet.handlers"),
        employees: (any EmployeeStore)? = nil, users: (any UserStore)? = nil, sharedValues: (any SharedValueStore)? = nil
    ) {
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.employeeStore = employees
        self.userStore = users
        self.sharedValues = sharedValues
    }

    /// The variables and secrets the handler names (``SecretResolver``).
    public var secrets: SecretResolver { self.settings.secrets }

    /// The employees Inlet keeps (provisioning, metadata-sync); ``HandlerUnavailable``
    /// when this setup has none.
    public func employees() throws -> any EmployeeStore {
        guard let store = self.employeeStore else { throw HandlerUnavailable("no employee store was given to this handler") }
        return store
    }

    /// The users Inlet keeps (one row per Auth0 account); ``HandlerUnavailable`` when this
    /// setup has none.
    public func users() throws -> any UserStore {
        guard let store = self.userStore else { throw HandlerUnavailable("no user store was given to this handler") }
        return store
    }
}
