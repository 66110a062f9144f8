internal import Hummingbird
internal import InletCore

/// `GET /healthz` (the process answers) and `GET /readyz` (a write commits now and the
/// dispatcher runs).
struct HealthRoutes: Sendable {
    let dispatcher: Dispatcher
    /// Handlers whose deliveries are planned but wait (shown, not failing readiness).
    let waiting: [HandlerRegistry.Inactive]
    let writable: WritableCheck

    func register(on routes: RouteTable) {
        let alive: JSONValue = ["status": "ok"]
        routes.get("/healthz") { _, _ in
            Response.json(alive)
        }
        routes.get("/readyz") { _, context in
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
