import AuditHandler
import CommandHandler
import ForwardHandler
import InletCore

/// Every handler this build knows: the one place a new handler is registered.
/// Configuration enables them and sets their options (`handlers` in the config file).
func builtinHandlers(environment: [String: String]) -> [HandlerFactory] {
    [
        AuditHandler.factory,
        CommandHandler.factory,
        ForwardHandler.factory(client: HTTPClient(configuration: .init(caBundlePath: environment["INLET_CA_BUNDLE"]))),
    ]
}
