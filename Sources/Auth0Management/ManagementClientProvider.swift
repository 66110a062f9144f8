public import InletHTTPClient
public import CoreMetrics
internal import InletCore
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

    /// The client for the tenant and application of `settings`.
    public func client(settings: ManagementSettings) -> ManagementClient {
        let key = [settings.domain, settings.clientID, settings.audience].joined(separator: "\u{1}")
        return self.clients.withLock { clients in
            if let existing = clients[key] { return existing }
            let client = ManagementClient(settings: settings, http: self.http, logger: self.logger, metrics: self.metrics)
            clients[key] = client
            return client
        }
    }
}
