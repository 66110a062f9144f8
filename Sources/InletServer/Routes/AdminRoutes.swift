internal import Hummingbird
internal import InletCore

/// The operators' API, behind `Authorization: Bearer $ADMIN_API_TOKEN`: events with
/// each handler's delivery state, replay of one event or of the dead-letter set, and the
/// purge of old events with dead deliveries. The mutating CLI commands call it while a
/// server holds the database.
struct AdminRoutes: Sendable {
    let store: any InletStore
    let intake: EventIntake
    let authenticator: BearerTokenAuthenticator
    let clock: WallClock

    func register(on routes: RouteTable) {
        routes.get("/admin/events") { request, _ in
            try self.authenticator.authenticate(request)
            let query = request.uri.queryParameters
            let state = try query["status"].map { text -> DeliveryState in
                guard let state = DeliveryState(rawValue: String(text)) else {
                    throw APIError.badRequest("status must be one of: \(DeliveryState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return state
            }
            let limit = try query["limit"].map { text -> Int in
                guard let limit = Int(text), (1...1000).contains(limit) else { throw APIError.badRequest("limit must be a whole number from 1 to 1000") }
                return limit
            } ?? 50
            let records = try await self.store.listEvents(state: state, type: query["type"].map(String.init), limit: limit)
            return Response.json(["events": .array(records.map { $0.json(includePayload: false) })])
        }
        routes.get("/admin/events/{id}") { request, context in
            try self.authenticator.authenticate(request)
            let id = try context.parameters.require("id")
            guard let record = try await self.store.eventRecord(id: id) else { throw APIError.notFound("no event with id \(id)") }
            return Response.json(record.json(includePayload: true))
        }
        routes.post("/admin/events/{id}/replay") { request, context in
            try self.authenticator.authenticate(request)
            let id = try context.parameters.require("id")
            guard let count = try await self.intake.replay(eventID: id) else { throw APIError.notFound("no event with id \(id)") }
            return Response.json(["replayed": .int(count), "event_id": .string(id)], status: .accepted)
        }
        routes.post("/admin/deliveries/replay") { request, _ in
            try self.authenticator.authenticate(request)
            guard request.uri.queryParameters["state"] == "dead" else {
                throw APIError.badRequest("only state=dead can be replayed in bulk")
            }
            let count = try await self.intake.replayDead()
            return Response.json(["replayed": .int(count)], status: .accepted)
        }
        routes.post("/admin/deliveries/purge") { request, _ in
            try self.authenticator.authenticate(request)
            let query = request.uri.queryParameters
            guard query["state"] == "dead" else {
                throw APIError.badRequest("only state=dead can be purged (finished events go by retention)")
            }
            guard let text = query["older_than_days"], let days = Int(text), (0...36_500).contains(days) else {
                throw APIError.badRequest("older_than_days must be a whole number of days from 0 to 36500")
            }
            let count = try await purgeFinished(self.store, olderThanDays: days, includingDead: true, clock: self.clock)
            return Response.json(["purged": .int(count)])
        }
    }
}
