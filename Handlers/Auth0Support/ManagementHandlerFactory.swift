public import Auth0Management
public import InletCore

/// What a handler that calls the Management API is built from.
public struct ManagementHandlerSetup: Sendable {
    /// The shared client of the tenant the `AUTH0_*` settings name.
    public let client: ManagementClient
    /// The employees Inlet keeps.
    public let employees: any EmployeeStore
    /// The factory's setup: the handler's settings, its secrets, clock and logger.
    public let setup: HandlerSetup
    public let subscriptions: [EventPattern]
}

extension ManagementClientProvider {
    /// A factory for a handler that calls the Management API and keeps employees: it reads
    /// `AUTH0_*` through the handler's secrets and takes this provider's client. Without
    /// the credentials the handler is inactive, and its deliveries are planned (to run once
    /// they are set and the process restarts) only when the configuration enables it
    /// explicitly (`"enabled": true`); otherwise nothing is planned for it, so a login or an
    /// event does not leave a delivery that would wait forever, and the reason says how to
    /// turn it on.
    public func handlerFactory<Handler: EventHandler>(
        _ type: Handler.Type, defaultOptions: HandlerOptions, subscriptions defaults: [EventPattern], settings: [SettingsSection] = [],
        make: @escaping @Sendable (ManagementHandlerSetup) throws -> Handler
    ) -> HandlerFactory {
        HandlerFactory(type, defaultOptions: defaultOptions, settings: [ManagementSettings.settings] + settings) { setup in
            let subscriptions = try setup.settings.subscriptions(default: defaults)
            let managementSettings: ManagementSettings
            do {
                managementSettings = try ManagementSettings(secrets: setup.secrets)
            } catch let unavailable as HandlerUnavailable {
                let name = Handler.name
                guard try setup.settings.bool("enabled") == true else {
                    throw HandlerUnavailable(
                        "off, nothing planned for it: \(unavailable.reason). To turn it on, set them; to plan its deliveries "
                            + "meanwhile, to run once they are set, set handlers.\(name).enabled to true in the configuration file"
                    )
                }
                throw HandlerUnavailable("waiting: \(unavailable.reason)", waitingOn: subscriptions)
            }
            return try make(
                ManagementHandlerSetup(
                    client: self.client(settings: managementSettings, sharedState: setup.sharedValues), employees: try setup.employees(),
                    setup: setup, subscriptions: subscriptions
                )
            )
        }
    }
}

extension HandlerError {
    /// How a failed Management API call ends a delivery: a 429, a 5xx or a network
    /// failure is retried (after Auth0's `Retry-After` when it sent one); anything else is
    /// permanent.
    public init(_ error: ManagementError) {
        self = error.isTransient ? .transient(error.description, retryAfter: error.retryAfter) : .permanent(error.description)
    }
}
