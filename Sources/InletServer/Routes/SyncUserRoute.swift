internal import Hummingbird
internal import InletCore
internal import Logging
internal import NIOCore
internal import Synchronization

/// `POST /internal/auth/sync-user`: the Auth0 Post-Login Action reports a login.
///
/// Answers `{"success": true, "user_id": N, "created": bool}` once the user row and the
/// `auth0.user.login` event are committed. Never calls Auth0: the Action is waiting.
struct SyncUserRoute: Sendable {
    let store: any InletStore
    let authenticator: BearerTokenAuthenticator
    let body: JSONBodyReader
    let registry: HandlerRegistry
    let dispatcher: Dispatcher

    func register(on router: Router<InletRequestContext>, routes: RouteTable) {
        routes.add("/internal/auth/sync-user", .post)
        router.post("/internal/auth/sync-user") { request, _ in
            try await self.handle(request)
        }
    }

    func handle(_ request: Request) async throws -> Response {
        try self.authenticator.authenticate(request)
        let (document, raw) = try await self.body.read(request)
        let login = try LoginSync(json: document.root.requireObject())
        let handlers = self.registry.subscribers(of: LoginSync.eventType)
        let result = try await self.store.syncLogin(login, payload: String(buffer: raw), handlers: handlers)
        if !handlers.isEmpty { self.dispatcher.notify(handlers) }
        return .json(["success": true, "user_id": .int(Int(result.userID)), "created": .bool(result.created)])
    }
}

/// `GET /healthz` (the process answers) and `GET /readyz` (a write commits now and the
/// dispatcher runs).
struct HealthRoutes: Sendable {
    let dispatcher: Dispatcher
    /// Handlers whose deliveries are planned but wait (shown, not failing readiness).
    let waiting: [HandlerRegistry.Inactive]
    let writable: WritableCheck

    func register(on router: Router<InletRequestContext>, routes: RouteTable) {
        routes.add("/healthz", .get)
        routes.add("/readyz", .get)
        let alive: JSONValue = ["status": "ok"]
        router.get("/healthz") { _, _ in
            Response.json(alive)
        }
        router.get("/readyz") { _, context in
            let writable = await self.writable.check(logger: context.logger)
            let dispatching = self.dispatcher.isRunning
            var problems: [String] = []
            if !writable { problems.append("the database is not writable") }
            if !dispatching { problems.append("the dispatcher is not running") }
            let checks: JSONValue = [
                "database": writable ? "ok" : "failing",
                "dispatcher": dispatching ? "running" : "stopped",
                "handlers_waiting": .array(self.waiting.map { ["handler": .string($0.name), "reason": .string($0.reason)] }),
            ]
            guard problems.isEmpty else {
                return Response.json(
                    ["status": "unavailable", "error": "unavailable", "message": .string(problems.joined(separator: "; ")), "checks": checks],
                    status: .serviceUnavailable
                )
            }
            return Response.json(["status": "ready", "checks": checks])
        }
    }
}

/// Whether the database takes a write now, for `/readyz`: one write a second at most,
/// whatever the rate of probes (a flood of them must not become a flood of commits); a
/// store stopped by an I/O error fails at once, without a write.
final class WritableCheck: Sendable {
    private let store: SQLiteStore
    /// The last answer and when it was taken (monotonic time: this paces probes, it is not
    /// domain time).
    private let last = Mutex<(writable: Bool, at: ContinuousClock.Instant)?>(nil)

    init(store: SQLiteStore) {
        self.store = store
    }

    func check(logger: Logger) async -> Bool {
        if self.store.stoppedBy != nil { return false }
        let now = ContinuousClock.now
        if let last = self.last.withLock({ $0 }), now - last.at < .seconds(1) { return last.writable }
        var writable = true
        do {
            try await self.store.checkWritable()
        } catch {
            logger.warning("not ready: database not writable", metadata: ["error": "\(error)"])
            writable = false
        }
        self.last.withLock { $0 = (writable, now) }
        return writable
    }
}
