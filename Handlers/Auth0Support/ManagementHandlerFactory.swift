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
    /// the credentials the handler is inactive but its deliveries are planned, to run once
    /// they are set and the process restarts.
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
                throw HandlerUnavailable(unavailable.reason, waitingOn: subscriptions)
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
