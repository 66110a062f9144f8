public import InletCore

/// `audit`: an append-only audit-log row for every event it receives.
///
/// Subscribed to every type by default. While it is enabled the dispatcher also records
/// every delivery outcome (delivered, retry scheduled, dead) in the same log, in the
/// transaction that records the outcome.
///
/// ```json
/// "handlers": {"audit": {"enabled": true, "subscriptions": ["*"]}}
/// ```
public struct AuditHandler: EventHandler {
    public static let name = "audit"
    public let subscriptions: [EventPattern]

    public init(subscriptions: [EventPattern] = ["*"]) {
        self.subscriptions = subscriptions
    }

    /// The row is written with the delivery's outcome, in one transaction: once per event,
    /// however often a crash makes the delivery run again.
    public func handle(_ event: Event, context: HandlerContext) async throws {
        context.audit("received", detail: "from \(event.source) at \(event.receivedAt)")
    }

    /// Local and cheap: many deliveries at once, so their writes share commits.
    public static var defaultOptions: HandlerOptions {
        var options = HandlerOptions()
        options.concurrency = 256
        return options
    }

    /// Registration for the executable's handler list: enabled unless configured off.
    public static let factory = HandlerFactory(Self.self, defaultOptions: defaultOptions) { setup in
        AuditHandler(subscriptions: try setup.settings.subscriptions(default: ["*"]))
    }

    /// Every delivery outcome is written to the audit log while this handler runs.
    public var recordsOutcomes: Bool { true }
}
