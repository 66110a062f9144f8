import AuditHandler
import Auth0Management
import CommandHandler
import ForwardHandler
import InletCommand
import InletCore
import Logging
import MetadataSyncHandler
import ProvisioningHandler

/// Every handler this build knows: the one place a built-in handler is registered.
/// Configuration enables them and sets their options (`handlers` in the config file).
/// Provisioning and metadata-sync share one Management API client (one token, one rate
/// limiter); both stay inactive, with the reason, until the Auth0 credentials are set.
@Sendable func builtinHandlers(_ resources: InletCommand.Resources) -> [HandlerFactory] {
    let clients = resources.auth0
    return [
        AuditHandler.factory,
        CommandHandler.factory,
        ForwardHandler.factory(client: resources.http),
        ProvisioningHandler.factory(clients: clients, metrics: resources.metrics),
        MetadataSyncHandler.factory(clients: clients),
    ]
}
