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
func builtinHandlers(caBundlePath: String?) -> [HandlerFactory] {
    [
        AuditHandler.factory,
        CommandHandler.factory,
        ForwardHandler.factory(client: HTTPClient(configuration: .init(caBundlePath: caBundlePath))),
    ] + auth0Handlers(caBundlePath: caBundlePath)
}

/// Provisioning and metadata-sync share one Management API client (one token, one rate
/// limiter). Both stay inactive, with the reason, until the Auth0 credentials are set.
private func auth0Handlers(caBundlePath: String?) -> [HandlerFactory] {
    // MetricsSystem is bootstrapped by `serve` before the handlers are built.
    let metrics = MetricsSystem.factory
    let clients = ManagementClientProvider(
        http: HTTPClient(configuration: .init(caBundlePath: caBundlePath)),
        logger: Logger(label: "inlet.auth0"), metrics: metrics
    )
    return [
        ProvisioningHandler.factory(clients: clients, metrics: metrics),
        MetadataSyncHandler.factory(clients: clients),
    ]
}
