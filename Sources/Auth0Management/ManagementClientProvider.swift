public import InletHTTPClient
public import CoreMetrics
public import InletCore
public import Logging
internal import Synchronization

/// One ``ManagementClient`` per tenant, shared by the handlers that call the Management
/// API (provisioning, metadata-sync), so that they share one token and one rate limiter.
///
/// The executable makes one provider and hands it to both handler factories.
///
/// ```swift
/// let provider = ManagementClientProvider(http: http, logger: logger, metrics: MetricsSystem.factory)
/// let factories = [ProvisioningHandler.factory(clients: provider), MetadataSyncHandler.factory(clients: provider)]
/// ```
public final class ManagementClientProvider: Sendable {
    private let http: OutboundClient
    private let logger: Logger
    private let metrics: (any MetricsFactory)?
    private let clients = Mutex<[String: ManagementClient]>([:])

    public init(http: OutboundClient, logger: Logger = Logger(label: "inlet.auth0"), metrics: (any MetricsFactory)? = nil) {
        self.http = http
        self.logger = logger
        self.metrics = metrics
    }

    /// The client for the tenant and application of `settings`; with `sharedState` (the
    /// database's ``SharedValueStore`` when several instances share it), its rate limiter
    /// paces the calls of every instance together.
    public func client(settings: ManagementSettings, sharedState: (any SharedValueStore)? = nil) -> ManagementClient {
        let key = [settings.domain, settings.clientID, settings.audience].joined(separator: "\u{1}")
        return self.clients.withLock { clients in
            if let existing = clients[key] { return existing }
            var options = ManagementClient.Options()
            options.sharedState = sharedState
            let client = ManagementClient(settings: settings, http: self.http, options: options, logger: self.logger, metrics: self.metrics)
            clients[key] = client
            return client
        }
    }
}
