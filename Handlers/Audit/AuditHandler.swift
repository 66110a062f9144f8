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
    let store: any InletStore

    public init(store: any InletStore, subscriptions: [EventPattern] = ["*"]) {
        self.store = store
        self.subscriptions = subscriptions
    }

    public func handle(_ event: Event, context: HandlerContext) async throws {
        try await self.store.appendAudit(event: event, handler: nil, outcome: "received", detail: "from \(event.source) at \(event.receivedAt)", once: true)
    }

    /// Local and cheap: many deliveries at once, so their writes share commits.
    public static var defaultOptions: HandlerOptions {
        var options = HandlerOptions()
        options.concurrency = 256
        return options
    }

    /// Registration for the executable's handler list: enabled unless configured off.
    public static let factory = HandlerFactory(name: name, enabledByDefault: true, defaultOptions: defaultOptions) { settings, store in
        AuditHandler(store: store, subscriptions: try settings.subscriptions(default: ["*"]))
    }
}
