public import InletCore
internal import PostgresNIO

/// Employees and their Auth0 accounts in PostgreSQL.
extension PostgresStore: EmployeeStore {
    static let columns = """
        employee_id, name, email, department, phone_number, connecteam_id, role_code, auth0_user_id, auth0_sync_status,
        auth0_account_created_at, auth0_email, assigned_role, role_assigned_at, blocked, last_error, updated_at,
        auth0_create_email, auth0_create_attempted_at, employee_id_is_number
        """

    /// The record of a row with ``columns``.
    static func record(_ row: PostgresRow) throws -> EmployeeRecord {
        let random = row.makeRandomAccess()
        func text(_ index: Int) throws -> String { try random[index].decode(String.self) }
        func optional(_ index: Int) throws -> String? { try random[index].decode(String?.self) }
        let status = try text(8)
        guard let syncStatus = Auth0SyncStatus(rawValue: status) else {
            throw PostgresStoreError("employee \(try text(0)) has an unknown sync status \(status)", unavailable: false)
        }
        return EmployeeRecord(
            employee: Employee(
                employeeID: try text(0), name: try text(1), email: try text(2), department: try text(3), phoneNumber: try optional(4),
                connecteamID: try optional(5), roleCode: try optional(6), employeeIDIsNumber: try random[18].decode(Bool.self)
            ),
            auth0UserID: try optional(7), syncStatus: syncStatus, accountCreatedAt: try optional(9), auth0Email: try optional(10),
            assignedRole: try optional(11), roleAssignedAt: try optional(12), blocked: try random[13].decode(Bool.self),
            lastError: try optional(14), updatedAt: try text(15), createIntentEmail: try optional(16), createIntentAt: try optional(17)
        )
    }

    /// Inserts or updates in one statement; the update applies only when this event is
    /// not older than the row's (by occurred_at when both have one, ties by sequence, else
    /// by sequence). Returns the row as it now is.
    public func upsertEmployee(_ employee: Employee, version: EmployeeVersion) async throws -> EmployeeRecord {
        let now = self.nowText
        let rows = try await self.rows(
            """
            WITH upserted AS (
                INSERT INTO employees AS t (employee_id, name, email, department, phone_number, connecteam_id, role_code, created_at,
                    updated_at, employee_id_is_number, version_occurred_at, version_seq)
                VALUES (\(employee.employeeID), \(employee.name), \(employee.email), \(employee.department), \(employee.phoneNumber)::text,
                    \(employee.connecteamID)::text, \(employee.roleCode)::text, \(now), \(now), \(employee.employeeIDIsNumber),
                    \(version.occurredAt?.millisecondsSinceEpoch)::bigint, \(version.sequence))
                ON CONFLICT (employee_id) DO UPDATE SET name = excluded.name, email = excluded.email,
                    department = excluded.department, phone_number = excluded.phone_number,
                    connecteam_id = excluded.connecteam_id, role_code = excluded.role_code, updated_at = excluded.updated_at,
                    employee_id_is_number = excluded.employee_id_is_number,
                    version_occurred_at = excluded.version_occurred_at, version_seq = excluded.version_seq
                WHERE t.version_seq IS NULL OR CASE
                    WHEN excluded.version_occurred_at IS NOT NULL AND t.version_occurred_at IS NOT NULL
                    THEN excluded.version_occurred_at > t.version_occurred_at
                        OR (excluded.version_occurred_at = t.version_occurred_at AND excluded.version_seq >= t.version_seq)
                    ELSE excluded.version_seq >= t.version_seq
                    END
                RETURNING \(unescaped: Self.columns)
            )
            SELECT \(unescaped: Self.columns) FROM upserted
            """
        )
        if let row = rows.first { return try Self.record(row) }
        // The update was skipped (an older event) for a row that a concurrent insert
        // committed after this statement's snapshot: read it now.
        guard let record = try await self.employee(id: employee.employeeID) else {
            throw PostgresStoreError("the employee row vanished after its upsert", unavailable: false)
        }
        return record
    }

    public func employee(id: String) async throws -> EmployeeRecord? {
        try await self.read("SELECT \(unescaped: Self.columns) FROM employees WHERE employee_id = \(id)").first.map(Self.record)
    }

    public func employee(auth0UserID: String) async throws -> EmployeeRecord? {
        try await self.read("SELECT \(unescaped: Self.columns) FROM employees WHERE auth0_user_id = \(auth0UserID)").first.map(Self.record)
    }

    public func recordAuth0CreateIntent(employeeID: String, email: String) async throws {
        let now = self.nowText
        try await self.rows(
            "UPDATE employees SET auth0_create_email = \(email), auth0_create_attempted_at = \(now), updated_at = \(now) WHERE employee_id = \(employeeID)"
        )
    }

    /// Refuses (false) when another employee holds the account; a concurrent link of the
    /// same account by two instances ends the same way (the unique index decides).
    public func linkAuth0Account(employeeID: String, auth0UserID: String, status: Auth0SyncStatus, email: String) async throws -> Bool {
        let now = self.nowText
        do {
            let rows = try await self.rows(
                """
                WITH holder AS (SELECT employee_id FROM employees WHERE auth0_user_id = \(auth0UserID) AND employee_id <> \(employeeID))
                UPDATE employees SET auth0_user_id = \(auth0UserID), auth0_sync_status = \(status.rawValue), auth0_email = \(email),
                    auth0_account_created_at = coalesce(auth0_account_created_at, \(now)), last_error = NULL, updated_at = \(now),
                    auth0_create_email = NULL, auth0_create_attempted_at = NULL
                WHERE employee_id = \(employeeID) AND NOT EXISTS (SELECT 1 FROM holder)
                RETURNING 1
                """
            )
            if !rows.isEmpty { return true }
            // Nothing updated: another employee holds the account, or there is no such employee.
            let holder = try await self.read(
                "SELECT 1 FROM employees WHERE auth0_user_id = \(auth0UserID) AND employee_id <> \(employeeID)"
            )
            return holder.isEmpty
        } catch let error as PostgresStoreError where error.isUniqueViolation {
            return false
        }
    }

    public func recordRoleAssigned(employeeID: String, role: String) async throws {
        let now = self.nowText
        try await self.rows(
            "UPDATE employees SET assigned_role = \(role), role_assigned_at = \(now), updated_at = \(now) WHERE employee_id = \(employeeID)"
        )
    }

    public func setAuth0SyncStatus(employeeID: String, status: Auth0SyncStatus, error: String?) async throws {
        let now = self.nowText
        let error = error.map { String($0.prefix(2000)) }
        try await self.rows(
            "UPDATE employees SET auth0_sync_status = \(status.rawValue), last_error = \(error)::text, updated_at = \(now) WHERE employee_id = \(employeeID)"
        )
    }

    public func recordAuth0Email(employeeID: String, email: String) async throws {
        let now = self.nowText
        try await self.rows("UPDATE employees SET auth0_email = \(email), updated_at = \(now) WHERE employee_id = \(employeeID)")
    }

    public func setBlocked(employeeID: String, blocked: Bool) async throws {
        let now = self.nowText
        try await self.rows("UPDATE employees SET blocked = \(blocked), updated_at = \(now) WHERE employee_id = \(employeeID)")
    }
}
