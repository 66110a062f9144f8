import AuditHandler
import InletCore

/// Every handler this build knows: the one place a new handler is registered.
/// Configuration enables them and sets their options (`handlers` in the config file).
let builtinHandlers: [HandlerFactory] = [
    AuditHandler.factory,
]
