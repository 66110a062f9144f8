import AuditHandler
import Auth0
import CommandHandler
import ForwardHandler
import InletCore
import Logging
import MetadataSyncHandler
import Metrics
import ProvisioningHandler

/// Every handler this build knows: the one place a new handler is registered.
/// Configuration enables them and sets their options (`handlers` in the config file).
/// The handlers that call out share one HTTP client (one curl thread, one connection pool).
func builtinHandlers(caBundlePath: String?, proxy: String?) -> [HandlerFactory] {
    let http = HTTPClient(configuration: .init(caBundlePath: caBundlePath, proxy: proxy))
    return [
        AuditHandler.factory,
        CommandHandler.factory,
        ForwardHandler.factory(client: http),
    ] + auth0Handlers(http: http)
}

/// Provisioning and metadata-sync share one Management API client (one token, one rate
/// limiter). Both stay inactive, with the reason, until the Auth0 credentials are set.
private func auth0Handlers(http: HTTPClient) -> [HandlerFactory] {
    // MetricsSystem is bootstrapped by `serve` before the handlers are built.
    let metrics = MetricsSystem.factory
    let clients = ManagementClientProvider(http: http, logger: Logger(label: "inlet.auth0"), metrics: metrics)
    return [
        ProvisioningHandler.factory(clients: clients, metrics: metrics),
        MetadataSyncHandler.factory(clients: clients),
    ]
}
