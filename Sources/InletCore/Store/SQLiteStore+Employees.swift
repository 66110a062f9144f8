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
}
