internal import InletCore

/// Asks for an employee's Auth0 account to be provisioned (again, with `force`): appends an
/// `employee.provision` event of source `admin` holding the stored employee, whose
/// deliveries go to the provisioning handler through the usual pipeline.
///
/// The one implementation behind `POST /admin/employees/{id}/provision` and the console's
/// "provision" buttons.
///
/// ```swift
/// guard let result = try await provisioning.provision(employeeID: "E-1", force: false) else { /* 404 */ }
/// ```
struct EmployeeProvisioning: Sendable {
    let intake: EventIntake
    let employees: any EmployeeStore

    /// The appended event's result; nil when there is no employee with `employeeID`.
    func provision(employeeID: String, force: Bool) async throws -> AppendResult? {
        guard let record = try await self.employees.employee(id: employeeID) else { return nil }
        guard case .object(var data) = record.employee.json else { throw APIError.internalError() }
        data.append(("force", .bool(force)))
        let payload: JSONValue = ["type": .string(EventType.employeeProvision.rawValue), "force": .bool(force), "data": .object(data)]
        return try await self.intake.receive(
            NewEvent(source: .admin, id: self.intake.newEventID(), type: .employeeProvision, payload: payload.serializedString)
        )
    }
}
