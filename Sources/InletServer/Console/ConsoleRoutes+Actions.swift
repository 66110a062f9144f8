internal import Hummingbird
internal import HTTPTypes
internal import InletCore
internal import Logging

/// The console's actions (POST forms): each calls the operation the admin API calls, then
/// redirects to a page with a flash message saying what happened (Post/Redirect/Get).
extension ConsoleRoutes {
    func registerActions(on routes: RouteTable) {
        routes.post("/console/events/{id}/replay") { request, context in
            let id = try Self.pathParameter("id", context)
            return try await self.act(request, context) { _, form in
                let handler = form["handler"].flatMap { $0.isEmpty ? nil : $0 }
                let page = "/console/events/\(Self.urlEncoded(id))"
                guard let count = try await self.intake.replay(eventID: id, handler: handler) else {
                    return self.pages.message(title: "No such event", text: "There is no event with id \(id).", status: .notFound, session: nil)
                }
                context.logger.info("console replay", metadata: ["event_id": "\(id)", "handler": "\(handler ?? "*")", "replayed": "\(count)"])
                let what = handler.map { "the delivery to \($0)" } ?? "the event"
                return self.redirect(page, flash: "Replayed \(what): \(count) \(count == 1 ? "delivery" : "deliveries") due now.", request, context)
            }
        }
        routes.post("/console/dead-letters/replay") { request, context in
            try await self.act(request, context) { session, form in
                let handler = form["handler"].flatMap { $0.isEmpty ? nil : $0 }
                // A group is one handler's, and its key may be empty (deliveries dead without
                // an error text): an absent key replays the handler's whole dead set.
                let errorKey = form["error_key"]
                guard errorKey == nil || handler != nil else {
                    return self.pages.message(
                        title: "Nothing replayed", text: "A dead-letter group is one handler's, and the form named none.",
                        status: .badRequest, session: session
                    )
                }
                let count = try await self.intake.replayDead(handler: handler, errorKey: errorKey)
                context.logger.info("console dead-letter replay", metadata: ["handler": "\(handler ?? "*")", "replayed": "\(count)"])
                return self.redirect(
                    "/console/dead-letters", flash: "Replayed \(count) dead \(count == 1 ? "delivery" : "deliveries")\(handler.map { " of \($0)" } ?? "").",
                    request, context
                )
            }
        }
        for (verb, paused) in [("pause", true), ("resume", false)] {
            routes.post("/console/handlers/{name}/\(verb)") { request, context in
                let name = try Self.pathParameter("name", context)
                return try await self.act(request, context) { _, _ in
                    guard self.catalogue.entry(name, paused: false) != nil else {
                        return self.pages.message(title: "No such handler", text: "No handler is named \(name).", status: .notFound, session: nil)
                    }
                    try await self.intake.setPaused(paused, handler: name)
                    context.logger.info("console \(verb)", metadata: ["handler": "\(name)"])
                    return self.redirect("/console/handlers", flash: paused ? "Paused \(name)." : "Resumed \(name).", request, context)
                }
            }
        }
        routes.post("/console/employees/{id}/provision") { request, context in
            let id = try Self.pathParameter("id", context)
            return try await self.act(request, context) { _, form in
                let force = form["force"] == "true"
                let provisioning = EmployeeProvisioning(intake: self.intake, employees: self.store)
                guard let result = try await provisioning.provision(employeeID: id, force: force) else {
                    return self.pages.message(title: "No such employee", text: "There is no employee with id \(id).", status: .notFound, session: nil)
                }
                context.logger.info("console provision", metadata: ["employee_id": "\(id)", "force": "\(force)", "event_id": "\(result.eventID)"])
                return self.redirect(
                    "/console/employees", flash: "Provisioning \(force ? "(forced) " : "")of \(id) requested: event \(result.eventID).", request, context
                )
            }
        }
    }
}
