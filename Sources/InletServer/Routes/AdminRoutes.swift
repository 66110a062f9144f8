internal import Hummingbird
internal import InletCore

/// The operators' API, behind `Authorization: Bearer $ADMIN_API_TOKEN`: events searched
/// and paged with each handler's delivery state, one event with its headers and attempt
/// history, replay of one event (or one handler's delivery of it) or of the dead-letter
/// set, and the purge of old events with dead deliveries. The mutating CLI commands call
/// it while a server holds the database. ``OperatorRoutes`` has the rest of the console's.
struct AdminRoutes: Sendable {
    let store: any InletStore
    let intake: EventIntake
    let authenticator: BearerTokenAuthenticator
    let clock: WallClock

    func register(on routes: RouteTable) {
        routes.get("/admin/events") { request, _ in
            try self.authenticator.authenticate(request)
            let page = try await self.store.searchEvents(try Self.eventQuery(request))
            return Response.json([
                "events": .array(page.records.map { $0.json(includePayload: false) }), "next_cursor": .string(page.nextCursor),
            ])
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
            let handler = try Self.parameter(request.uri.queryParameters["handler"], name: "handler")
            guard let count = try await self.intake.replay(eventID: id, handler: handler) else { throw APIError.notFound("no event with id \(id)") }
            var answer: [(String, JSONValue)] = [("replayed", .int(count)), ("event_id", .string(id))]
            if let handler { answer.append(("handler", .string(handler))) }
            return Response.json(.object(answer), status: .accepted)
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

    /// A query parameter's text, nil when absent (and, unless `keepEmpty`, when empty: no
    /// filter); 400 for one holding U+0000 (which no database stores as text). A number, a
    /// time or a state keeps an empty value, which its check then refuses.
    static func parameter(_ value: Substring?, name: String, keepEmpty: Bool = false) throws -> String? {
        guard let value, keepEmpty || !value.isEmpty else { return nil }
        guard !value.unicodeScalars.contains("\u{0}") else { throw APIError.badRequest("\(name) must not hold U+0000") }
        return String(value)
    }

    /// The search of `GET /admin/events`: `source`, `type`, `status`, `handler`, `from` and
    /// `to` (RFC 3339), `q` (event id, employee id or email), `cursor`, `limit` (1-1000,
    /// default 50); 400 for a value that cannot be one.
    static func eventQuery(_ request: Request) throws -> EventQuery {
        let parameters = request.uri.queryParameters
        func text(_ name: String, keepEmpty: Bool = false) throws -> String? {
            try AdminRoutes.parameter(parameters[Substring(name)], name: name, keepEmpty: keepEmpty)
        }
        func time(_ name: String) throws -> Timestamp? {
            try text(name, keepEmpty: true).map { value in
                guard let time = Timestamp(rfc3339: value) else { throw APIError.badRequest("\(name) must be an RFC 3339 time, such as 2026-01-31T12:00:00Z") }
                return time
            }
        }
        var query = EventQuery()
        query.source = try text("source")
        query.type = try text("type")
        query.handler = try text("handler")
        query.search = try text("q")
        query.cursor = try text("cursor")
        query.state = try text("status", keepEmpty: true).map { value in
            guard let state = DeliveryState(rawValue: value) else {
                throw APIError.badRequest("status must be one of: \(DeliveryState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return state
        }
        query.receivedFrom = try time("from")
        query.receivedBefore = try time("to")
        query.limit = try text("limit", keepEmpty: true).map { value in
            guard let limit = Int(value), (1...1000).contains(limit) else { throw APIError.badRequest("limit must be a whole number from 1 to 1000") }
            return limit
        } ?? 50
        if let cursor = query.cursor {
            do {
                _ = try query.cursorSeq()
            } catch {
                throw APIError.badRequest("cursor \(cursor) is not one a page of events gave")
            }
        }
        return query
    }
}
