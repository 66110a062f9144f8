/// The type of an event (`employee.created`, `auth0.user.login`, ...): what handlers
/// subscribe to with an ``EventPattern``. The types Inlet itself makes or checks are
/// constants here, written once.
public struct EventType: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { self.rawValue }

    /// A login reported by the Post-Login Action or the frontend (`POST /auth/sync`).
    public static let userLogin: EventType = "auth0.user.login"
    public static let employeeCreated: EventType = "employee.created"
    public static let employeeUpdated: EventType = "employee.updated"
    public static let employeeDeactivated: EventType = "employee.deactivated"
    /// An operator's request to provision an employee's Auth0 account (the admin API).
    public static let employeeProvision: EventType = "employee.provision"
    /// A log-stream entry that could not be stored as its own event (kept with the reason).
    public static let auth0LogRejected: EventType = "auth0.log_rejected"
    /// A reconcile run finished (`inlet auth0 reconcile`, `AUTH0_RECONCILE_INTERVAL`), with its counts.
    public static let reconcileCompleted: EventType = "inlet.reconcile.completed"
}

/// Where an event came from; with the event's id, its idempotency key.
public struct EventSource: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { self.rawValue }

    /// Logins: the Post-Login Action and `POST /auth/sync`.
    public static let auth0: EventSource = "auth0"
    /// The productivity system's webhooks.
    public static let productivity: EventSource = "productivity"
    /// The operators' admin API (provision, import).
    public static let admin: EventSource = "admin"
    /// Auth0's custom-webhook log stream (`POST /hooks/auth0-logs`); ids are Auth0's `log_id`.
    public static let auth0Logs: EventSource = "auth0-logs"
    /// Inlet itself (reconcile runs).
    public static let inlet: EventSource = "inlet"
}
