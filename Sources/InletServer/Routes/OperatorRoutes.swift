internal import Hummingbird
internal import InletCore

/// The operators' routes of the console, behind `Authorization: Bearer $ADMIN_API_TOKEN`:
///
/// - `GET /admin/overview`: ``AdminOverview`` (handlers with state and counts, the last
///   hour's activity per minute).
/// - `GET /admin/dead-letters?limit`: dead deliveries grouped by handler and normalised
///   error; `POST /admin/dead-letters/replay?handler&error_key` replays one group (or a
///   handler's, or all) and answers how many.
/// - `GET /admin/handlers`: ``HandlerCatalogue``; `POST /admin/handlers/{name}/pause` and
///   `/resume` (persisted in the database, for every instance).
/// - `GET /admin/employees?status&after&limit`, `GET /admin/users/recent?limit`.
struct OperatorRoutes: Sendable {
    let store: any StoreBackend
    let intake: EventIntake
    let overview: AdminOverview
    let catalogue: HandlerCatalogue
    let authenticator: BearerTokenAuthenticator

    func register(on routes: RouteTable) {
        routes.get("/admin/overview") { request, _ in
            try self.authenticator.authenticate(request)
            return Response.json(try await self.overview.build().json)
        }
        routes.get("/admin/dead-letters") { request, _ in
            try self.authenticator.authenticate(request)
            let limit = try Self.limit(request, default: 100)
            let groups = try await self.store.deadLetterGroups(limit: limit)
            return Response.json(["groups": .array(groups.map(\.json))])
        }
        routes.post("/admin/dead-letters/replay") { request, _ in
            try self.authenticator.authenticate(request)
            let query = request.uri.queryParameters
            let handler = try AdminRoutes.parameter(query["handler"], name: "handler")
            let errorKey = try AdminRoutes.parameter(query["error_key"], name: "error_key")
            if errorKey != nil && handler == nil { throw APIError.badRequest("error_key needs handler: a group is one handler's") }
            let count = try await self.intake.replayDead(handler: handler, errorKey: errorKey)
            return Response.json(["replayed": .int(count)], status: .accepted)
        }
        routes.get("/admin/handlers") { request, _ in
            try self.authenticator.authenticate(request)
            let paused = try await self.store.pausedHandlers()
            return Response.json(["handlers": .array(self.catalogue.entries(paused: paused))])
        }
        for (action, pause) in [("pause", true), ("resume", false)] {
            routes.post("/admin/handlers/{name}/\(action)") { request, context in
                try self.authenticator.authenticate(request)
                let name = try context.parameters.require("name")
                guard self.catalogue.entry(name, paused: false) != nil else { throw APIError.notFound("no handler named \(name)") }
                try await self.intake.setPaused(pause, handler: name)
                return Response.json(["handler": .string(name), "paused": .bool(pause)])
            }
        }
        routes.get("/admin/employees") { request, _ in
            try self.authenticator.authenticate(request)
            let query = request.uri.queryParameters
            let status = try AdminRoutes.parameter(query["status"], name: "status", keepEmpty: true).map { value in
                guard let status = Auth0SyncStatus(rawValue: value) else {
                    throw APIError.badRequest("status must be one of: \(Auth0SyncStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return status
            }
            let after = try AdminRoutes.parameter(query["after"], name: "after")
            let limit = try Self.limit(request, default: 100)
            let employees = try await self.store.listEmployees(status: status, after: after, limit: limit)
            return Response.json([
                "employees": .array(employees.map(Self.json)),
                "next_after": .string(employees.count == limit ? employees.last?.employee.employeeID : nil),
            ])
        }
        routes.get("/admin/users/recent") { request, _ in
            try self.authenticator.authenticate(request)
            let users = try await self.store.recentLogins(limit: try Self.limit(request, default: 50))
            return Response.json(["users": .array(users.map(Self.json))])
        }
    }

    /// `limit` from 1 to 1000 (`fallback` when absent).
    static func limit(_ request: Request, default fallback: Int) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return fallback }
        guard let limit = Int(text), (1...1000).contains(limit) else { throw APIError.badRequest("limit must be a whole number from 1 to 1000") }
        return limit
    }

    static func json(_ record: EmployeeRecord) -> JSONValue {
        [
            "employee_id": .string(record.employee.employeeID), "name": .string(record.employee.name), "email": .string(record.employee.email),
            "department": .string(record.employee.department), "auth0_user_id": .string(record.auth0UserID),
            "sync_status": .string(record.syncStatus.rawValue), "blocked": .bool(record.blocked), "last_error": .string(record.lastError),
            "account_created_at": .string(record.accountCreatedAt), "updated_at": .string(record.updatedAt),
        ]
    }

    static func json(_ user: UserRecord) -> JSONValue {
        [
            "id": .int(Int(user.id)), "auth0_id": .string(user.auth0ID), "email": .string(user.email), "name": .string(user.name),
            "email_verified": .bool(user.emailVerified), "logins_count": .int(user.loginsCount), "last_login_at": .string(user.lastLoginAt),
        ]
    }
}
