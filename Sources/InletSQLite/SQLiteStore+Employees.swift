public import InletCore
extension SQLiteStore: EmployeeStore {
    static let columns = """
        employee_id, name, email, department, phone_number, connecteam_id, role_code, auth0_user_id, auth0_sync_status,
        auth0_account_created_at, auth0_email, assigned_role, role_assigned_at, blocked, last_error, updated_at,
        auth0_create_email, auth0_create_attempted_at, employee_id_is_number
        """

    /// The record of a row with ``columns``.
    static func record(_ row: SQLiteRow) throws(SQLiteError) -> EmployeeRecord {
        EmployeeRecord(
            employee: Employee(
                employeeID: try row.string("employee_id"), name: try row.string("name"), email: try row.string("email"),
                department: try row.string("department"), phoneNumber: try row.optionalString("phone_number"),
                connecteamID: try row.optionalString("connecteam_id"), roleCode: try row.optionalString("role_code"),
                employeeIDIsNumber: try row.bool("employee_id_is_number")
            ),
            auth0UserID: try row.optionalString("auth0_user_id"), syncStatus: try row.string("auth0_sync_status", as: Auth0SyncStatus.self),
            accountCreatedAt: try row.optionalString("auth0_account_created_at"), auth0Email: try row.optionalString("auth0_email"),
            assignedRole: try row.optionalString("assigned_role"), roleAssignedAt: try row.optionalString("role_assigned_at"),
            blocked: try row.bool("blocked"), lastError: try row.optionalString("last_error"), updatedAt: try row.string("updated_at"),
            createIntentEmail: try row.optionalString("auth0_create_email"), createIntentAt: try row.optionalString("auth0_create_attempted_at")
        )
    }

    public func upsertEmployee(_ employee: Employee, version: EmployeeVersion) async throws -> EmployeeRecord {
        let now = self.clock.now().description
        return try await self.write { connection in
            // The update applies only when this event is not older than the row's: by
            // occurred_at when both have one (ties by sequence), else by sequence. A row
            // written before versions were kept (version_seq NULL) takes any event.
            try connection.execute(
                """
                INSERT INTO employees (employee_id, name, email, department, phone_number, connecteam_id, role_code, created_at, updated_at,
                    employee_id_is_number, version_occurred_at, version_seq)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11)
                ON CONFLICT (employee_id) DO UPDATE SET name = excluded.name, email = excluded.email,
                    department = excluded.department, phone_number = excluded.phone_number,
                    connecteam_id = excluded.connecteam_id, role_code = excluded.role_code, updated_at = excluded.updated_at,
                    employee_id_is_number = excluded.employee_id_is_number,
                    version_occurred_at = excluded.version_occurred_at, version_seq = excluded.version_seq
                WHERE employees.version_seq IS NULL OR CASE
                    WHEN excluded.version_occurred_at IS NOT NULL AND employees.version_occurred_at IS NOT NULL
                    THEN excluded.version_occurred_at > employees.version_occurred_at
                        OR (excluded.version_occurred_at = employees.version_occurred_at AND excluded.version_seq >= employees.version_seq)
                    ELSE excluded.version_seq >= employees.version_seq
                    END
                """,
                [
                    .text(employee.employeeID), .text(employee.name), .text(employee.email), .text(employee.department),
                    .text(employee.phoneNumber), .text(employee.connecteamID), .text(employee.roleCode), .text(now),
                    .bool(employee.employeeIDIsNumber), version.occurredAt.map { SQLiteValue.integer($0.millisecondsSinceEpoch) } ?? .null,
                    .integer(version.sequence),
                ]
            )
            guard let row = try connection.row("SELECT \(Self.columns) FROM employees WHERE employee_id = ?", [.text(employee.employeeID)]) else {
                throw SQLiteError(code: 1, message: "the employee row vanished after its upsert")
            }
            return try Self.record(row)
        }
    }

    public func employee(id: String) async throws -> EmployeeRecord? {
        try await self.read { connection in
            try connection.row("SELECT \(Self.columns) FROM employees WHERE employee_id = ?", [.text(id)]).map { try Self.record($0) }
        }
    }

    public func employee(auth0UserID: String) async throws -> EmployeeRecord? {
        try await self.read { connection in
            try connection.row("SELECT \(Self.columns) FROM employees WHERE auth0_user_id = ?", [.text(auth0UserID)]).map { try Self.record($0) }
        }
    }

    public func recordAuth0CreateIntent(employeeID: String, email: String) async throws {
        let now = self.clock.now().description
        try await self.write { connection in
            try connection.execute(
                "UPDATE employees SET auth0_create_email = ?1, auth0_create_attempted_at = ?2, updated_at = ?2 WHERE employee_id = ?3",
                [.text(email), .text(now), .text(employeeID)]
            )
        }
    }

    public func linkAuth0Account(employeeID: String, auth0UserID: String, status: Auth0SyncStatus, email: String) async throws -> Bool {
        let now = self.clock.now().description
        return try await self.write { connection in
            if let holder = try connection.row("SELECT employee_id FROM employees WHERE auth0_user_id = ?", [.text(auth0UserID)]),
                try holder.string("employee_id") != employeeID
            {
                return false
            }
            try connection.execute(
                """
                UPDATE employees SET auth0_user_id = ?1, auth0_sync_status = ?2, auth0_email = ?3,
                    auth0_account_created_at = coalesce(auth0_account_created_at, ?4), last_error = NULL, updated_at = ?4,
                    auth0_create_email = NULL, auth0_create_attempted_at = NULL
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
}
