internal import InletCore

/// The operators' overview: each handler's state (from the ``HandlerRegistry`` of this
/// process and the pauses in the store) with its queue counts, and the last hour's events
/// received and delivered per minute. One piece, so that `GET /admin/overview` and the
/// console's overview page show the same thing.
///
/// ```swift
/// let overview = try await AdminOverview(registry: registry, store: store, clock: clock).build()
/// return Response.json(overview.json)
/// ```
struct AdminOverview: Sendable {
    let registry: HandlerRegistry
    let store: any InletStore
    let clock: WallClock

    /// Where one handler stands.
    struct Handler: Sendable, Equatable {
        /// `running`, `paused`, `waiting` (deliveries planned, the handler cannot run yet)
        /// or `disabled`.
        enum State: String, Sendable {
            case running, paused, waiting, disabled
        }

        let name: String
        let state: State
        /// Why it is waiting or disabled.
        let reason: String?
        let paused: Bool
        let pending: Int
        let running: Int
        let dead: Int
        let oldestDueAt: Timestamp?

        var json: JSONValue {
            [
                "name": .string(self.name), "state": .string(self.state.rawValue), "reason": .string(self.reason), "paused": .bool(self.paused),
                "pending": .int(self.pending), "running": .int(self.running), "dead": .int(self.dead),
                "oldest_due_at": .string(self.oldestDueAt?.description),
            ]
        }
    }

    /// The overview as built at one moment.
    struct Snapshot: Sendable {
        let handlers: [Handler]
        let activity: [ActivityBucket]

        var json: JSONValue {
            ["handlers": .array(self.handlers.map(\.json)), "activity": .array(self.activity.map(\.json))]
        }
    }

    /// The handlers of this process, each with its state, in registry order (running ones
    /// first); handlers that only the store knows (deliveries planned by another instance
    /// or an older configuration) come last, as `disabled`.
    func handlers() async throws -> [Handler] {
        let counts = Dictionary(uniqueKeysWithValues: try await self.store.handlerCounts().map { ($0.handler, $0) })
        let paused = try await self.store.pausedHandlers()
        var handlers: [Handler] = []
        func add(_ name: String, _ state: Handler.State, _ reason: String?) {
            let count = counts[name]
            let isPaused = paused.contains(name)
            handlers.append(
                Handler(
                    name: name, state: isPaused && state == .running ? .paused : state, reason: reason, paused: isPaused,
                    pending: count?.pending ?? 0, running: count?.running ?? 0, dead: count?.dead ?? 0, oldestDueAt: count?.oldestDueAt
                )
            )
        }
        for entry in self.registry.active { add(entry.name, .running, nil) }
        for entry in self.registry.inactive { add(entry.name, entry.waitingOn == nil ? .disabled : .waiting, entry.reason) }
        let known = Set(handlers.map(\.name))
        for name in Set(counts.keys).union(paused).subtracting(known).sorted() {
            add(name, .disabled, "not registered in this process")
        }
        return handlers
    }

    /// Handlers with their counts, and the last hour in one-minute slices.
    func build() async throws -> Snapshot {
        let since = self.clock.now().adding(seconds: -3600)
        return Snapshot(handlers: try await self.handlers(), activity: try await self.store.activity(since: since, bucketSeconds: 60))
    }
}
