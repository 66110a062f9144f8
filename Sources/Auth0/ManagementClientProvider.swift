public import CoreMetrics
public import InletCore
public import Logging
internal import Synchronization

/// One ``ManagementClient`` per tenant, shared by the handlers that call the Management
/// API (provisioning, metadata-sync), so that they share one token and one rate limiter.
///
/// The executable makes one provider and hands it to both handler factories, which build
/// their handlers through ``handlerFactory(name:defaultOptions:subscriptions:make:)``.
///
/// ```swift
/// let provider = ManagementClientProvider(http: http, logger: logger, metrics: MetricsSystem.factory)
/// let factories = [ProvisioningHandler.factory(clients: provider), MetadataSyncHandler.factory(clients: provider)]
/// ```
public final class ManagementClientProvider: Sendable {
    private let http: HTTPClient
    private let logger: Logger
    private let metrics: (any MetricsFactory)?
    private let clients = Mutex<[String: ManagementClient]>([:])

    public init(http: HTTPClient, logger: Logger = Logger(label: "inlet.auth0"), metrics: (any MetricsFactory)? = nil) {
        self.http = http
        self.logger = logger
        self.metrics = metrics
    }

    /// The client for the `AUTH0_*` settings in `configuration`.
    ///
    /// Throws ``HandlerUnavailable`` when `AUTH0_DOMAIN`, `AUTH0_CLIENT_ID` or
    /// `AUTH0_CLIENT_SECRET` is missing.
    public func client(configuration: Configuration) throws -> ManagementClient {
        let settings = try ManagementSettings(configuration: configuration)
        let key = [settings.domain, settings.clientID, settings.audience].joined(separator: "\u{1}")
        return self.clients.withLock { clients in
            if let existing = clients[key] { return existing }
            let client = ManagementClient(settings: settings, http: self.http, logger: self.logger, metrics: self.metrics)
            clients[key] = client
            return client
        }
    }
}

/// What a handler that calls the Management API is built from.
public struct ManagementHandlerSetup: Sendable {
    /// The shared client of the tenant in `configuration`.
    public let client: ManagementClient
    public let store: any InletStore & EmployeeStore
    /// `AUTH0_*` as the handler's secrets resolve them.
    public let configuration: Configuration
    public let settings: HandlerSettings
    public let subscriptions: [EventPattern]
}

extension ManagementClientProvider {
    /// A factory for a handler that calls the Management API and keeps employees: it reads
    /// `AUTH0_*` through the handler's secrets and takes this provider's client. Without
    /// the credentials the handler is inactive but its deliveries are planned, to run once
    /// they are set and the process restarts.
    public func handlerFactory(
        name: String, defaultOptions: HandlerOptions, subscriptions defaults: [EventPattern],
        make: @escaping @Sendable (ManagementHandlerSetup) throws -> any EventHandler
    ) -> HandlerFactory {
        HandlerFactory(name: name, enabledByDefault: true, defaultOptions: defaultOptions) { settings, store in
            var configuration = Configuration()
            try configuration.applyAuth0(from: settings.secrets)
            let subscriptions = try settings.subscriptions(default: defaults)
            let client: ManagementClient
            do {
                client = try self.client(configuration: configuration)
            } catch let unavailable as HandlerUnavailable {
                throw HandlerUnavailable(unavailable.reason, waitingOn: subscriptions)
            }
            guard let store = store as? any InletStore & EmployeeStore else {
                throw HandlerUnavailable("the configured store does not keep employees")
            }
            return try make(
                ManagementHandlerSetup(client: client, store: store, configuration: configuration, settings: settings, subscriptions: subscriptions)
            )
        }
    }
}
