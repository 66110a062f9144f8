internal import Hummingbird
internal import InletCore

/// The operators' employee routes, behind `Authorization: Bearer $ADMIN_API_TOKEN`.
///
/// - `POST /admin/employees/{employee_id}/provision` with `{"force": false}` (body
///   optional) appends an `employee.provision` event of source `admin` for a known
///   employee; its deliveries go to the provisioning handler through the same pipeline.
///   202 `{"accepted": true, "event_id", "employee_id", "handlers"}`.
/// - `POST /admin/employees/import` with a JSON array of employees appends one
///   `employee.created` event each, of source `admin` and id `import:<employee_id>`, so a
///   re-import is deduplicated. Invalid entries are counted and the first 100 listed, the
///   rest accepted; more than 10,000 entries are refused with 400.
///   202 `{"received", "accepted", "duplicates", "invalid", "errors": [{"index", "message"}]}`.
struct EmployeeAdminRoutes: Sendable {
    let intake: EventIntake
    let employees: any EmployeeStore
    let authenticator: BearerTokenAuthenticator
    /// Reads the provision body.
    let body: JSONBodyReader
    /// Reads import bodies (larger than single events).
    let importBody: JSONBodyReader

    /// Most employees in one import (an 8 MiB array of `{}` would otherwise be millions
    /// of parsed nodes), and most error entries in its answer.
    static let maxImportElements = 10_000
    static let maxReportedErrors = 100

    func register(on routes: RouteTable) {
        routes.post("/admin/employees/{employee_id}/provision") { request, context in
            try self.authenticator.authenticate(request)
            let employeeID = try context.parameters.require("employee_id")
            var force = false
            if request.headers[.contentLength].map({ $0 != "0" }) ?? (request.headers[.contentType] != nil) {
                let (document, _) = try await self.body.read(request)
                let root = try document.root.requireObject()
                force = try root.bool("force") ?? false
            }
            guard let result = try await EmployeeProvisioning(intake: self.intake, employees: self.employees)
                .provision(employeeID: employeeID, force: force)
            else {
                throw APIError.notFound("no employee with id \(employeeID)")
            }
            return Response.json(
                [
                    "accepted": true, "event_id": .string(result.eventID), "employee_id": .string(employeeID),
                    "handlers": .array(result.handlers.map { .string($0) }),
                ],
                status: .accepted
            )
        }

        routes.post("/admin/employees/import") { request, _ in
            try self.authenticator.authenticate(request)
            let raw = try await self.importBody.readBytes(request)
            // Counted before parsing: the parser would build every element first.
            guard raw.withUnsafeReadableBytes({ JSONDocument.arrayHasAtMost(Self.maxImportElements, elements: $0) }) else {
                throw APIError.badRequest("an import holds at most \(Self.maxImportElements) employees; split it")
            }
            let document = try self.importBody.parse(raw)
            guard document.root.isArray else {
                throw APIError.badRequest("the body must be a JSON array of employees")
            }
            let items = document.root.elements
            var events: [NewEvent] = []
            var errors: [JSONValue] = []
            var invalid = 0
            for (index, item) in items.enumerated() {
                do {
                    let employee = try Employee(json: item)
                    let payload: JSONValue = ["type": .string(EventType.employeeCreated.rawValue), "data": employee.json]
                    events.append(
                        NewEvent(source: .admin, id: "import:\(employee.employeeID)", type: .employeeCreated, payload: payload.serializedString)
                    )
                } catch {
                    invalid += 1
                    guard errors.count < Self.maxReportedErrors else { continue }
                    let message = (error as? EmployeeValidationError)?.message ?? "\(error)"
                    errors.append(["index": .int(index), "message": .string(message)])
                }
            }
            let results = try await self.intake.receive(events)
            let duplicates = results.filter(\.duplicate).count
            return Response.json(
                [
                    "received": .int(items.count), "accepted": .int(results.count - duplicates), "duplicates": .int(duplicates),
                    "invalid": .int(invalid), "errors": .array(errors),
                ],
                status: .accepted
            )
        }
    }
}
