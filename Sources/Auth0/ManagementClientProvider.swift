public import CoreMetrics
public import InletCore
public import Logging
internal import Synchronization

/// One ``ManagementClient`` per tenant, shared by the handlers that call the Management
/// API (provisioning, metadata-sync), so that they share one token and one rate limiter.
///
/// The executable makes one provider and hands it to both handler factories; each
/// factory asks for the client with its ``HandlerSettings/environment`` and gets
/// ``HandlerUnavailable`` when the credentials are missing. Tests pass a client made
/// with ``ManagementClient/init(baseURL:settings:http:options:logger:metrics:)``.
///
/// ```swift
/// let provider = ManagementClientProvider(http: http, logger: logger, metrics: MetricsSystem.factory)
/// let factories = [ProvisioningHandler.factory(clients: provider), MetadataSyncHandler.factory(clients: provider)]
/// ```
public final class ManagementClientProvider: Sendable {
    private let http: HTTPClient?
    private let logger: Logger
    private let metrics: (any MetricsFactory)?
    private let fixed: ManagementClient?
    private let clients = Mutex<[String: ManagementClient]>([:])

    public init(http: HTTPClient, logger: Logger = Logger(label: "inlet.auth0"), metrics: (any MetricsFactory)? = nil) {
        self.http = http
        self.logger = logger
        self.metrics = metrics
        self.fixed = nil
    }

    /// Always hands out `client` (tests).
    public init(client: ManagementClient) {
        self.http = nil
        self.logger = Logger(label: "inlet.auth0")
        self.metrics = nil
        self.fixed = client
    }

    /// The client for the `AUTH0_*` settings in `configuration`.
    ///
    /// Throws ``HandlerUnavailable`` when `AUTH0_DOMAIN`, `AUTH0_CLIENT_ID` or
    /// `AUTH0_CLIENT_SECRET` is missing.
    public func client(configuration: Configuration) throws -> ManagementClient {
        if let fixed = self.fixed { return fixed }
        let settings = try ManagementSettings(configuration: configuration)
        guard let http = self.http else { throw HandlerUnavailable("no HTTP client") }
        let key = [settings.domain, settings.clientID, settings.audience].joined(separator: "\u{1}")
        return self.clients.withLock { clients in
            if let existing = clients[key] { return existing }
            let client = ManagementClient(settings: settings, http: http, logger: self.logger, metrics: self.metrics)
            clients[key] = client
            return client
        }
    }
}
