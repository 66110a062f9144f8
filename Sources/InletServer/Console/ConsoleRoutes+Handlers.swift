internal import InletCore

/// Each configured handler's state as the overview and the handlers page show it.
extension ConsoleRoutes {
    struct HandlerState {
        let name: String
        /// `running`, `paused`, `waiting` or `disabled`.
        let state: String
        let reason: String?
        let paused: Bool
        let counts: HandlerQueueCounts?
        /// (key, value) as configured; secrets as `set` / `unset`.
        let settings: [(String, String)]
    }

    /// The registry's handlers (active, then inactive) with their queue counts; a handler
    /// the store has deliveries for but this build does not configure is listed too.
    func handlerStates(counts: [HandlerQueueCounts]) -> [HandlerState] {
        let byName = Dictionary(counts.map { ($0.handler, $0) }, uniquingKeysWith: { first, _ in first }) as [String: HandlerQueueCounts]
        var states: [HandlerState] = []
        for entry in self.registry.active {
            let counts = byName[entry.name]
            let paused = counts?.paused ?? false
            states.append(
                HandlerState(
                    name: entry.name, state: paused ? "paused" : "running", reason: paused ? "paused by an operator" : nil, paused: paused,
                    counts: counts, settings: Self.options(entry.options) + [("subscriptions", entry.subscriptions.map(\.pattern).joined(separator: ", "))]
                )
            )
        }
        for entry in self.registry.inactive {
            let counts = byName[entry.name]
            states.append(
                HandlerState(
                    name: entry.name, state: counts?.paused == true ? "paused" : (entry.waitingOn != nil ? "waiting" : "disabled"),
                    reason: entry.reason, paused: counts?.paused ?? false, counts: counts, settings: []
                )
            )
        }
        let known = Set(states.map(\.name))
        for counts in counts where !known.contains(counts.handler) {
            states.append(
                HandlerState(
                    name: counts.handler, state: "disabled", reason: "not configured in this instance", paused: counts.paused, counts: counts,
                    settings: []
                )
            )
        }
        return states
    }

    static func options(_ options: HandlerOptions) -> [(String, String)] {
        [
            ("concurrency", "\(options.concurrency)"), ("max_attempts", "\(options.maxAttempts)"),
            ("backoff_base", "\(options.backoffBase) s"), ("backoff_cap", "\(options.backoffCap) s"), ("lease", "\(options.leaseSeconds) s"),
        ]
    }
}
