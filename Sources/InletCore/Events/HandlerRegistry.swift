package import Logging

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
    package init(
        factories: [HandlerFactory], settings: [String: JSONValue], environment: [String: String], stores: any StoreBackend,
        clock: WallClock = .system, logger: Logger = Logger(label: "inlet.handlers")
    ) throws {
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
                let handler = try factory.build(
                    HandlerSetup(
                        settings: handlerSettings, clock: clock, logger: logger, employees: stores, users: stores,
                        sharedValues: stores as? any SharedValueStore
                    )
                )
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
    ///
    /// Only ``EventIntake`` plans deliveries, so it is the only caller.
    package func subscribers(of type: EventType) -> [String] {
        self.active.filter { $0.subscriptions.contains { $0.matches(type.rawValue) } }.map(\.name)
            + self.inactive.filter { $0.waitingOn?.contains { $0.matches(type.rawValue) } == true }.map(\.name)
    }
}
