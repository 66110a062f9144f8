internal import Foundation

// MARK: - Employees

/// Where an employee's Auth0 account stands (`employees.auth0_sync_status`).
public enum Auth0SyncStatus: String, Sendable, CaseIterable {
    /// Known, no account yet.
    case pending
    /// Inlet created the account.
    case created
    /// An account with the employee's email already existed and was linked.
    case linked
    /// The employee logged in with a verified email.
    case verified
    /// Provisioning failed permanently (see `last_error`).
    case failed
}

/// An employee as the productivity system describes one (the `data` of an `employee.*` event).
///
/// ```swift
/// let employee = try Employee(json: document.root.requireObject().object("data")!)
/// ```
public struct Employee: Sendable, Equatable {
    /// The event the admin provision route appends: provision this employee (again).
    public static let provisionEventType = "employee.provision"

    public var employeeID: String
    public var name: String
    public var email: String
    public var department: String
    public var phoneNumber: String?
    public var connecteamID: String?
    public var roleCode: String?

    public init(
        employeeID: String, name: String, email: String, department: String,
        phoneNumber: String? = nil, connecteamID: String? = nil, roleCode: String? = nil
    ) {
        self.employeeID = employeeID
        self.name = name
        self.email = email
        self.department = department
        self.phoneNumber = phoneNumber
        self.connecteamID = connecteamID
        self.roleCode = roleCode
    }

    /// Reads and validates an employee object: `employee_id` (non-empty string or whole
    /// number), `name`, `email` (address syntax) and `department` are required; the
    /// message names the field and never quotes more than the field's name.
    public init(json node: JSONNode) throws(EmployeeValidationError) {
        do {
            _ = try node.requireObject()
            let id: String
            if let text = try? node.string("employee_id") {
                id = text.trimmingCharacters(in: .whitespaces)
            } else if let number = try? node.int("employee_id") {
                id = String(number)
            } else if node.contains("employee_id") {
                throw EmployeeValidationError("employee_id must be a string or a whole number")
            } else {
                throw EmployeeValidationError("employee_id is missing")
            }
            guard !id.isEmpty, id.count <= 128 else { throw EmployeeValidationError("employee_id must be 1 to 128 characters") }
            func required(_ key: String) throws -> String {
                guard let value = try node.string(key)?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
                    throw EmployeeValidationError("\(key) is missing or empty")
                }
                return value
            }
            func optional(_ key: String) throws -> String? {
                guard let value = try node.string(key)?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
                return value
            }
            let email = try required("email")
            guard Self.isValidEmail(email) else { throw EmployeeValidationError("email is not a valid email address") }
            self.init(
                employeeID: id, name: try required("name"), email: email, department: try required("department"),
                phoneNumber: try optional("phone_number"), connecteamID: try optional("connecteam_id"), roleCode: try optional("role_code")
            )
        } catch let error as EmployeeValidationError {
            throw error
        } catch let error as JSONError {
            throw EmployeeValidationError(error.message)
        } catch {
            throw EmployeeValidationError("\(error)")
        }
    }

    /// The employee as a JSON object, in the productivity system's field names.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("employee_id", .string(self.employeeID)), ("name", .string(self.name)), ("email", .string(self.email)),
            ("department", .string(self.department)),
        ]
        if let phone = self.phoneNumber { members.append(("phone_number", .string(phone))) }
        if let connecteam = self.connecteamID { members.append(("connecteam_id", .string(connecteam))) }
        if let role = self.roleCode { members.append(("role_code", .string(role))) }
        return .object(members)
    }

    /// A pragmatic address check: one `@`, a non-empty local part, a dotted domain, no
    /// spaces or control characters, at most 254 bytes.
    public static func isValidEmail(_ email: String) -> Bool {
        let bytes = Array(email.utf8)
        guard bytes.count <= 254, !bytes.contains(where: { $0 <= 32 || $0 == 127 }) else { return false }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64 else { return false }
        let domain = parts[1]
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") }) else { return false }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-"))
        return domain.unicodeScalars.allSatisfy { $0 == "." || allowed.contains($0) }
    }
}

/// Why an employee record was refused.
public struct EmployeeValidationError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

/// An employee row: the record and its Auth0 account state.
public struct EmployeeRecord: Sendable, Equatable {
    public let employee: Employee
    public let auth0UserID: String?
    public let syncStatus: Auth0SyncStatus
    public let accountCreatedAt: String?
    /// The email last written to Auth0.
    public let auth0Email: String?
    public let assignedRole: String?
    public let roleAssignedAt: String?
    public let blocked: Bool
    public let lastError: String?
    public let updatedAt: String
}

/// An event to append (see ``EmployeeStore/appendEvents(_:handlers:)``).
public struct NewEvent: Sendable {
    public let source: String
    public let id: String
    public let type: String
    public let payload: String

    public init(source: String, id: String, type: String, payload: String) {
        self.source = source
        self.id = id
        self.type = type
        self.payload = payload
    }
}

/// Employees and their Auth0 accounts: what provisioning and metadata-sync record, so
/// that every step can be repeated safely under re-delivery.
///
/// ```swift
/// guard let employees = store as? any EmployeeStore else { throw HandlerUnavailable("...") }
/// let record = try await employees.upsertEmployee(employee)
/// ```
public protocol EmployeeStore: Sendable {
    /// Inserts the employee (status `pending`) or updates its record; the Auth0 columns are kept.
    func upsertEmployee(_ employee: Employee) async throws -> EmployeeRecord
    func employee(id: String) async throws -> EmployeeRecord?
    func employee(auth0UserID: String) async throws -> EmployeeRecord?
    /// Records the employee's Auth0 account. Returns false, changing nothing, when another
    /// employee already holds `auth0UserID`. Keeps the first account-creation time.
    func linkAuth0Account(employeeID: String, auth0UserID: String, status: Auth0SyncStatus, email: String) async throws -> Bool
    func recordRoleAssigned(employeeID: String, role: String) async throws
    /// Sets the status; `error` is kept as `last_error` (nil clears it).
    func setAuth0SyncStatus(employeeID: String, status: Auth0SyncStatus, error: String?) async throws
    func recordAuth0Email(employeeID: String, email: String) async throws
    func setBlocked(employeeID: String, blocked: Bool) async throws
    /// Appends several events in one transaction, each with one delivery per handler;
    /// repeated `(source, id)` pairs are reported as duplicates.
    func appendEvents(_ events: [NewEvent], handlers: [String]) async throws -> [AppendResult]
}

extension SQLiteStore: EmployeeStore {
    private static let columns = """
        employee_id, name, email, department, phone_number, connecteam_id, role_code, auth0_user_id, auth0_sync_status,
        auth0_account_created_at, auth0_email, assigned_role, role_assigned_at, blocked, last_error, updated_at
        """

    private static func record(_ row: [SQLiteValue]) -> EmployeeRecord {
        EmployeeRecord(
            employee: Employee(
                employeeID: row[0].string ?? "", name: row[1].string ?? "", email: row[2].string ?? "", department: row[3].string ?? "",
                phoneNumber: row[4].string, connecteamID: row[5].string, roleCode: row[6].string
            ),
            auth0UserID: row[7].string, syncStatus: Auth0SyncStatus(rawValue: row[8].string ?? "") ?? .pending,
            accountCreatedAt: row[9].string, auth0Email: row[10].string, assignedRole: row[11].string,
            roleAssignedAt: row[12].string, blocked: (row[13].int ?? 0) != 0, lastError: row[14].string, updatedAt: row[15].string ?? ""
        )
    }

    public func upsertEmployee(_ employee: Employee) async throws -> EmployeeRecord {
        let now = self.clock.now().description
        return try await self.write { connection in
            try connection.execute(
                """
                INSERT INTO employees (employee_id, name, email, department, phone_number, connecteam_id, role_code, created_at, updated_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
                ON CONFLICT (employee_id) DO UPDATE SET name = excluded.name, email = excluded.email,
                    department = excluded.department, phone_number = excluded.phone_number,
                    connecteam_id = excluded.connecteam_id, role_code = excluded.role_code, updated_at = excluded.updated_at
                """,
                [
                    .text(employee.employeeID), .text(employee.name), .text(employee.email), .text(employee.department),
                    .text(employee.phoneNumber), .text(employee.connecteamID), .text(employee.roleCode), .text(now),
                ]
            )
            guard let row = try connection.row("SELECT \(Self.columns) FROM employees WHERE employee_id = ?", [.text(employee.employeeID)]) else {
                throw SQLiteError(code: 1, message: "the employee row vanished after its upsert")
            }
            return Self.record(row)
        }
    }

    public func employee(id: String) async throws -> EmployeeRecord? {
        try await self.read { connection in
            try connection.row("SELECT \(Self.columns) FROM employees WHERE employee_id = ?", [.text(id)]).map(Self.record)
        }
    }

    public func employee(auth0UserID: String) async throws -> EmployeeRecord? {
        try await self.read { connection in
            try connection.row("SELECT \(Self.columns) FROM employees WHERE auth0_user_id = ?", [.text(auth0UserID)]).map(Self.record)
        }
    }

    public func linkAuth0Account(employeeID: String, auth0UserID: String, status: Auth0SyncStatus, email: String) async throws -> Bool {
        let now = self.clock.now().description
        return try await self.write { connection in
            if let holder = try connection.row("SELECT employee_id FROM employees WHERE auth0_user_id = ?", [.text(auth0UserID)])?.first?.string,
                holder != employeeID
            {
                return false
            }
            try connection.execute(
                """
                UPDATE employees SET auth0_user_id = ?1, auth0_sync_status = ?2, auth0_email = ?3,
                    auth0_account_created_at = coalesce(auth0_account_created_at, ?4), last_error = NULL, updated_at = ?4
                WHERE employee_id = ?5
                """,
                [.text(auth0UserID), .text(status.rawValue), .text(email), .text(now), .text(employeeID)]
            )
            return true
        }
    }

    public func recordRoleAssigned(employeeID: String, role: String) async throws {
        let now = self.clock.now().description
        try await self.write { connection in
            try connection.execute(
                "UPDATE employees SET assigned_role = ?1, role_assigned_at = ?2, updated_at = ?2 WHERE employee_id = ?3",
                [.text(role), .text(now), .text(employeeID)]
            )
        }
    }

    public func setAuth0SyncStatus(employeeID: String, status: Auth0SyncStatus, error: String?) async throws {
        let now = self.clock.now().description
        try await self.write { connection in
            try connection.execute(
                "UPDATE employees SET auth0_sync_status = ?1, last_error = ?2, updated_at = ?3 WHERE employee_id = ?4",
                [.text(status.rawValue), .text(error.map { String($0.prefix(2000)) }), .text(now), .text(employeeID)]
            )
        }
    }

    public func recordAuth0Email(employeeID: String, email: String) async throws {
        let now = self.clock.now().description
        try await self.write { connection in
            try connection.execute(
                "UPDATE employees SET auth0_email = ?1, updated_at = ?2 WHERE employee_id = ?3", [.text(email), .text(now), .text(employeeID)]
            )
        }
    }

    public func setBlocked(employeeID: String, blocked: Bool) async throws {
        let now = self.clock.now().description
        try await self.write { connection in
            try connection.execute(
                "UPDATE employees SET blocked = ?1, updated_at = ?2 WHERE employee_id = ?3", [.bool(blocked), .text(now), .text(employeeID)]
            )
        }
    }

    public func appendEvents(_ events: [NewEvent], handlers: [String]) async throws -> [AppendResult] {
        let now = self.clock.now()
        return try await self.write { connection in
            try events.map { event in
                try Self.insertEvent(
                    connection, source: event.source, id: event.id, type: event.type, payload: event.payload, handlers: handlers, now: now
                )
            }
        }
    }
}
