public import InletCore

/// The employee an `employee.*` event carries, read the same way by every handler.
public enum EmployeeEvent {
    /// The event's `data`, validated as an ``Employee``; a permanent failure when it is
    /// not one (the door refuses such events, so only a replay of an old one meets it).
    public static func employee(in root: JSONNode) throws(HandlerError) -> (employee: Employee, data: JSONNode) {
        let data = try self.data(in: root)
        do {
            return (try Employee(json: data), data)
        } catch {
            throw HandlerError.permanent("invalid employee record: \(error.message)")
        }
    }

    /// The event's `data` object.
    public static func data(in root: JSONNode) throws(HandlerError) -> JSONNode {
        guard root.isObject, let data = (try? root.object("data")) ?? nil else {
            throw HandlerError.permanent("invalid employee record: the event has no data object")
        }
        return data
    }
}

/// The Auth0 metadata keys Inlet owns for an employee, built in one place: provisioning
/// writes them when it creates the account, metadata-sync patches them on updates.
/// Keys other than these are never written, so what others keep in the metadata stays.
public struct OwnedMetadata: Sendable {
    public var user: [(String, JSONValue)]
    public var app: [(String, JSONValue)]

    /// `user_metadata`: employee_id, full_name, department, phone_number (when known);
    /// `app_metadata`: employee_id, department, role_code (the record's, else
    /// `defaultRoleCode`, when either is known), connecteam_id (when known).
    public init(_ employee: Employee, defaultRoleCode: String? = nil) {
        self.user = [("employee_id", employee.employeeIDValue), ("full_name", .string(employee.name)), ("department", .string(employee.department))]
        if let phone = employee.phoneNumber { self.user.append(("phone_number", .string(phone))) }
        self.app = [("employee_id", employee.employeeIDValue), ("department", .string(employee.department))]
        if let role = employee.roleCode ?? defaultRoleCode { self.app.append(("role_code", .string(role))) }
        if let connecteam = employee.connecteamID { self.app.append(("connecteam_id", .string(connecteam))) }
    }
}
