internal import InletCore

/// The handlers as configured, for `GET /admin/handlers` and the console: options, and
/// the settings from the configuration file with every secret shown only as `set` or
/// `unset` (a key that names a secret, a token, a password or a key, or a variable that
/// holds one).
///
/// ```swift
/// let catalogue = HandlerCatalogue(registry: registry, settings: configuration.handlerSettings, environment: configuration.environment)
/// let entries = catalogue.entries(paused: try await store.pausedHandlers())
/// ```
struct HandlerCatalogue: Sendable {
    let registry: HandlerRegistry
    let settings: [String: JSONValue]
    let environment: [String: String]

    /// One handler as configured.
    func entry(_ name: String, paused: Bool) -> JSONValue? {
        var state: String
        var reason: String? = nil
        var options: JSONValue = .null
        if let active = self.registry.active.first(where: { $0.name == name }) {
            state = "running"
            options = [
                "max_attempts": .int(active.options.maxAttempts), "concurrency": .int(active.options.concurrency),
                "backoff_base_seconds": .double(active.options.backoffBase), "backoff_cap_seconds": .double(active.options.backoffCap),
                "lease_seconds": .double(active.options.leaseSeconds),
                "subscriptions": .array(active.subscriptions.map { .string($0.pattern) }),
            ]
        } else if let inactive = self.registry.inactive.first(where: { $0.name == name }) {
            state = inactive.waitingOn == nil ? "disabled" : "waiting"
            reason = inactive.reason
        } else {
            return nil
        }
        if paused && state == "running" { state = "paused" }
        return [
            "name": .string(name), "paused": .bool(paused), "state": .string(state), "reason": .string(reason), "options": options,
            "settings": self.redacted(self.settings[name] ?? .object([])),
        ]
    }

    /// Every handler of the registry, running ones first.
    func entries(paused: Set<String>) -> [JSONValue] {
        (self.registry.active.map(\.name) + self.registry.inactive.map(\.name)).compactMap { self.entry($0, paused: paused.contains($0)) }
    }

    /// Whether a settings key names a secret.
    static func isSecret(_ key: String) -> Bool {
        let lower = key.lowercased()
        return ["secret", "token", "password", "key", "credential", "authorization"].contains { lower.contains($0) }
    }

    /// `values` with each secret replaced by `set` or `unset`; a `…_env` secret is set when
    /// the variable it names is.
    func redacted(_ values: JSONValue) -> JSONValue {
        guard case .object(let members) = values else { return values }
        return .object(members.map { key, value in
            guard Self.isSecret(key) else {
                if case .object = value { return (key, self.redacted(value)) }
                return (key, value)
            }
            let isSet: Bool
            if key.lowercased().hasSuffix("_env"), let variable = value.stringValue {
                isSet = !(self.environment[variable] ?? "").isEmpty
            } else {
                isSet = value != .null && value != .string("")
            }
            return (key, .string(isSet ? "set" : "unset"))
        })
    }
}
