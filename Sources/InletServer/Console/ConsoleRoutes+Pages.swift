internal import Hummingbird
internal import HTTPTypes
internal import InletCore

/// The console's pages (GET): each reads through the store protocols and renders a template.
extension ConsoleRoutes {
    /// How often the overview reloads itself when scripts run.
    static let overviewRefreshSeconds = 15

    func overview(_ request: Request, session: ConsoleSessions.SignedIn, flash: String?) async throws -> Response {
        let now = self.clock.now()
        let snapshot = try await self.overview.build()
        let handlers = snapshot.handlers.map { handler -> [String: Any] in
            var oldest = ""
            if let due = handler.oldestDueAt {
                let age = now.millisecondsSinceEpoch - due.millisecondsSinceEpoch
                oldest = age >= 0 ? "due \(Self.duration(milliseconds: age)) ago" : "next in \(Self.duration(milliseconds: -age))"
            }
            return [
                "name": handler.name, "state": handler.state.rawValue, "stateClass": handler.state.rawValue, "reason": handler.reason as Any,
                "pending": handler.pending, "running": handler.running, "dead": handler.dead, "hasDead": handler.dead > 0, "oldestDue": oldest,
            ]
        }
        let charts = [
            ActivityChart(id: "received", label: "Events received", buckets: snapshot.activity.map { ($0.start, $0.received) }).values,
            ActivityChart(id: "delivered", label: "Deliveries done", buckets: snapshot.activity.map { ($0.start, $0.delivered) }).values,
        ]
        return self.pages.render(
            "overview", title: "Overview", section: .overview,
            values: [
                "handlers": handlers, "charts": charts, "now": now.description, "refresh": true,
                "refreshSeconds": Self.overviewRefreshSeconds,
            ],
            session: session, flash: flash
        )
    }

    func events(_ request: Request, session: ConsoleSessions.SignedIn, flash: String?) async throws -> Response {
        let parameters = request.uri.queryParameters
        func text(_ name: String) -> String? {
            guard let value = parameters[Substring(name)].map(String.init)?.trimmingSpaces, !value.isEmpty else { return nil }
            return value
        }
        var query = EventQuery(limit: 50)
        var problems: [String] = []
        query.source = text("source")
        query.type = text("type")
        query.handler = text("handler")
        query.search = text("q")
        query.cursor = text("cursor")
        if let state = text("state") {
            if let parsed = DeliveryState(rawValue: state) { query.state = parsed } else { problems.append("unknown delivery state \(state)") }
        }
        func time(_ name: String) -> Timestamp? {
            guard let value = text(name) else { return nil }
            guard let time = Self.parseTime(value) else {
                problems.append("\(name) is not a time (YYYY-MM-DDTHH:MM)")
                return nil
            }
            return time
        }
        query.receivedFrom = time("from")
        query.receivedBefore = time("to")
        var page = EventPage(records: [], nextCursor: nil)
        if problems.isEmpty {
            do {
                page = try await self.store.searchEvents(query)
            } catch let error as EventQueryError {
                problems.append(error.message)
            }
        }
        let rows = page.records.map { record -> [String: Any] in
            [
                "id": record.event.id, "href": "/console/events/\(Self.urlEncoded(record.event.id))", "source": record.event.source,
                "type": record.event.type, "receivedAt": record.event.receivedAt,
                "deliveries": record.deliveries.map { ["handler": $0.handler, "state": $0.state.rawValue] },
            ]
        }
        var nextHref: String?
        if let cursor = page.nextCursor {
            var pairs: [(String, String)] = []
            for name in ["source", "type", "state", "handler", "from", "to", "q"] {
                if let value = text(name) { pairs.append((name, value)) }
            }
            pairs.append(("cursor", cursor))
            nextHref = "/console/events?" + pairs.map { pair in "\(pair.0)=\(Self.urlEncoded(pair.1))" }.joined(separator: "&")
        }
        let sources = Set([EventSource.productivity, .auth0, .admin].map(\.rawValue) + (query.source.map { [$0] } ?? [])).sorted()
        let filterNames = ["source", "type", "state", "handler", "from", "to", "q"]
        let stateText = text("state")
        var values: [String: Any] = [:]
        values["events"] = rows
        values["nextHref"] = nextHref
        values["error"] = problems.isEmpty ? nil : problems.joined(separator: "; ")
        values["filtered"] = filterNames.contains { text($0) != nil }
        values["filter"] = ["type": text("type") ?? "", "q": text("q") ?? "", "from": text("from") ?? "", "to": text("to") ?? ""]
        values["sources"] = sources.map { source -> [String: Any] in ["value": source, "selected": source == query.source] }
        values["states"] = DeliveryState.allCases.map { state -> [String: Any] in ["value": state.rawValue, "selected": state.rawValue == stateText] }
        values["handlerOptions"] = self.handlerNames.map { name -> [String: Any] in ["value": name, "selected": name == query.handler] }
        values["types"] = [EventType.employeeCreated, .employeeUpdated, .employeeDeactivated, .employeeProvision, .userLogin].map(\.rawValue)
        return self.pages.render("events", title: "Events", section: .events, values: values, session: session, flash: flash)
    }

    func event(_ id: String, session: ConsoleSessions.SignedIn, flash: String?) async throws -> Response {
        guard let record = try await self.store.eventRecord(id: id) else {
            return self.pages.message(title: "No such event", text: "There is no event with id \(id).", status: .notFound, session: session)
        }
        let deliveries = record.deliveries.map { delivery -> [String: Any] in
            [
                "handler": delivery.handler, "state": delivery.state.rawValue, "attempts": delivery.attempts,
                "nextAttemptAt": (delivery.state == .pending ? delivery.nextAttemptAt.description : nil) as String? as Any,
                "deadReason": delivery.deadReason as Any,
                "history": delivery.attemptHistory.map { attempt -> [String: Any] in
                    [
                        "attempt": attempt.attempt, "startedAt": attempt.startedAt.description,
                        "duration": Self.duration(milliseconds: attempt.finishedAt.millisecondsSinceEpoch - attempt.startedAt.millisecondsSinceEpoch),
                        "outcome": attempt.outcome, "error": attempt.error as Any, "nextAttemptAt": Self.time(attempt.nextAttemptAt),
                        "instance": attempt.instance,
                    ]
                },
            ]
        }
        return self.pages.render(
            "event", title: "Event \(record.event.type)", section: .events,
            values: [
                "id": record.event.id, "source": record.event.source, "type": record.event.type, "receivedAt": record.event.receivedAt,
                "replayAction": "/console/events/\(Self.urlEncoded(record.event.id))/replay", "deliveries": deliveries,
                "headers": record.headers.map { ["name": $0.0, "value": $0.1] }, "payload": PrettyJSON.payload(of: record.event),
            ],
            session: session, flash: flash
        )
    }

    func deadLetters(session: ConsoleSessions.SignedIn, flash: String?) async throws -> Response {
        let groups = try await self.store.deadLetterGroups(limit: 200)
        return self.pages.render(
            "dead-letters", title: "Dead letters", section: .deadLetters,
            values: [
                "groups": groups.map { group -> [String: Any] in
                    [
                        "handler": group.handler, "errorKey": group.errorKey, "sampleError": group.sampleError, "count": group.count,
                        "firstSeen": group.firstSeen.description, "lastSeen": group.lastSeen.description,
                    ]
                }
            ],
            session: session, flash: flash
        )
    }

    func handlers(session: ConsoleSessions.SignedIn, flash: String?) async throws -> Response {
        let paused = try await self.store.pausedHandlers()
        let handlers = self.catalogue.entries(paused: paused).map { entry -> [String: Any] in
            let name = entry["name"]?.stringValue ?? ""
            let state = entry["state"]?.stringValue ?? ""
            func rows(_ key: String) -> [[String: Any]] {
                guard case .object(let members)? = entry[key] else { return [] }
                return members.map { name, value -> [String: Any] in ["key": name, "value": Self.display(value)] }
            }
            let options = rows("options")
            return [
                "name": name, "state": state, "stateClass": state, "reason": entry["reason"]?.stringValue as Any,
                "paused": entry["paused"]?.boolValue ?? false, "canPause": true, "hasOptions": !options.isEmpty, "options": options,
                "settings": rows("settings"),
            ]
        }
        return self.pages.render("handlers", title: "Handlers", section: .handlers, values: ["handlers": handlers], session: session, flash: flash)
    }

    func employees(_ request: Request, session: ConsoleSessions.SignedIn, flash: String?) async throws -> Response {
        let parameters = request.uri.queryParameters
        let statusText = parameters["status"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let status = statusText.flatMap(Auth0SyncStatus.init(rawValue:))
        let after = parameters["after"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let limit = 100
        let employees = try await self.store.listEmployees(status: status, after: after, limit: limit)
        let logins = try await self.store.recentLogins(limit: 50)
        var nextHref: String?
        if employees.count == limit, let last = employees.last {
            nextHref = "/console/employees?" + (statusText.map { "status=\(Self.urlEncoded($0))&" } ?? "")
                + "after=\(Self.urlEncoded(last.employee.employeeID))"
        }
        return self.pages.render(
            "employees", title: "Employees and logins", section: .employees,
            values: [
                "statuses": Auth0SyncStatus.allCases.map { ["value": $0.rawValue, "selected": $0 == status] },
                "employees": employees.map { record -> [String: Any] in
                    [
                        "id": record.employee.employeeID, "idPath": Self.urlEncoded(record.employee.employeeID),
                        "idQuery": Self.urlEncoded(record.employee.employeeID), "name": record.employee.name,
                        "email": record.employee.email, "status": record.syncStatus.rawValue, "account": record.auth0UserID as Any,
                        "lastError": record.lastError as Any,
                    ]
                },
                "nextHref": nextHref as Any,
                "logins": logins.map { user -> [String: Any] in
                    [
                        "auth0ID": user.auth0ID, "email": user.email ?? "", "name": user.name ?? "", "count": user.loginsCount,
                        "lastLoginAt": user.lastLoginAt ?? "",
                    ]
                },
            ],
            session: session, flash: flash
        )
    }

    /// A setting's value for a table cell: text as is, a number as Swift writes it (`0.1`,
    /// not jansson's `0.10000000000000001`), a list as its items, anything else as JSON.
    static func display(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .double(let number): "\(number)"
        case .array(let items): items.map(display).joined(separator: ", ")
        default: value.serializedString
        }
    }

    /// `2026-05-01T10:00`, `2026-05-01T10:00:30` (a `datetime-local` field, read as UTC) or RFC 3339.
    static func parseTime(_ text: String) -> Timestamp? {
        if let time = Timestamp(rfc3339: text) { return time }
        let withSeconds = text.utf8.count == 16 ? text + ":00" : text
        return Timestamp(rfc3339: withSeconds + "Z")
    }

    /// The configured handlers' names, active first.
    var handlerNames: [String] {
        self.catalogue.registry.active.map(\.name) + self.catalogue.registry.inactive.map(\.name)
    }
}

extension String {
    /// Without leading and trailing spaces.
    var trimmingSpaces: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
