import InletCore
import InletTestSupport
import Testing

/// Employees: upserts ordered by the event's version, and the Auth0 account state that
/// provisioning records step by step.
@Suite(.timeLimit(.minutes(2))) struct EmployeeConformanceTests {
    static func employee(_ id: String = "7", department: String = "Ops", email: String = "n@example.com") -> Employee {
        Employee(employeeID: id, name: "N", email: email, department: department, phoneNumber: "+15550100", connecteamID: "c-1",
                 roleCode: "R1", employeeIDIsNumber: true)
    }

    @Test(arguments: Backend.all) func aNewEmployeeIsPendingWithNoAccount(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            #expect(try await store.employee(id: "7") == nil)
            let record = try await store.upsertEmployee(Self.employee(), version: EmployeeVersion(sequence: 1))
            #expect(record == EmployeeRecord(
                employee: Self.employee(), auth0UserID: nil, syncStatus: .pending, accountCreatedAt: nil, auth0Email: nil, assignedRole: nil,
                roleAssignedAt: nil, blocked: false, lastError: nil, updatedAt: Moment.startText, createIntentEmail: nil, createIntentAt: nil
            ))
            #expect(try await store.employee(id: "7") == record)
            #expect(try await store.employee(id: "7")?.employee.employeeIDValue == .int(7))
            let text = Employee(employeeID: "x-1", name: "T", email: "t@example.com", department: "D")
            let stored = try await store.upsertEmployee(text, version: EmployeeVersion(sequence: 2))
            #expect(stored.employee == text && stored.employee.employeeIDValue == .string("x-1"))
            #expect(try await store.employee(id: "8") == nil)
            #expect(try await store.employee(auth0UserID: "auth0|none") == nil)
        }
    }

    @Test(arguments: Backend.all) func anOlderEventNeverOverwritesANewerOne(_ backend: Backend) async throws {
        try await backend.withStore { (tested: TestedStore) async throws in
            let store = tested.store
            func upsert(_ department: String, occurredAt: String? = nil, sequence: Int64) async throws -> String {
                let version = EmployeeVersion(occurredAt: occurredAt.flatMap(Timestamp.init(rfc3339:)), sequence: sequence)
                return try await store.upsertEmployee(Self.employee(department: department), version: version).employee.department
            }
            #expect(try await upsert("A", sequence: 5) == "A")
            #expect(try await upsert("stale", sequence: 4) == "A", "an earlier arrival, neither with occurred_at")
            #expect(try await upsert("A2", sequence: 5) == "A2", "the same version again applies")
            #expect(try await upsert("B", occurredAt: "2026-11-20T10:00:00Z", sequence: 6) == "B")
            #expect(try await upsert("earlier", occurredAt: "2026-11-20T03:59:59.999-06:00", sequence: 9) == "B", "arrived later, occurred earlier")
            #expect(try await upsert("C", occurredAt: "2026-11-20T10:00:00Z", sequence: 10) == "C", "same instant, later arrival")
            #expect(try await upsert("tie", occurredAt: "2026-11-20T10:00:00Z", sequence: 8) == "C", "same instant, earlier arrival")
            #expect(try await upsert("D", sequence: 11) == "D", "no occurred_at: arrival order")
            #expect(try await upsert("stale", sequence: 3) == "D")
            #expect(try await store.employee(id: "7")?.employee.department == "D")
            #expect(try await tested.count("employees") == 1)
        }
    }

    @Test(arguments: Backend.all) func provisioningStepsAreRecordedAndAnUpdateKeepsThem(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            _ = try await store.upsertEmployee(Self.employee(), version: EmployeeVersion(sequence: 1))
            time.advance(seconds: 1)
            try await store.recordAuth0CreateIntent(employeeID: "7", email: "n@example.com")
            var record = try #require(try await store.employee(id: "7"))
            #expect(record.createIntentEmail == "n@example.com" && record.createIntentAt == Moment.text(after: 1))
            #expect(record.updatedAt == Moment.text(after: 1))

            time.advance(seconds: 1)
            #expect(try await store.linkAuth0Account(employeeID: "7", auth0UserID: "auth0|7", status: .created, email: "n@example.com"))
            record = try #require(try await store.employee(id: "7"))
            #expect(record.auth0UserID == "auth0|7" && record.syncStatus == .created && record.auth0Email == "n@example.com")
            #expect(record.accountCreatedAt == Moment.text(after: 2))
            #expect(record.createIntentEmail == nil && record.createIntentAt == nil, "the link clears the intent")
            #expect(try await store.employee(auth0UserID: "auth0|7") == record)

            time.advance(seconds: 1)
            try await store.recordRoleAssigned(employeeID: "7", role: "rol_1")
            try await store.recordAuth0Email(employeeID: "7", email: "new@example.com")
            try await store.setBlocked(employeeID: "7", blocked: true)
            try await store.setAuth0SyncStatus(employeeID: "7", status: .failed, error: String(repeating: "e", count: 3000))
            #expect(try await store.employee(id: "7")?.lastError?.count == 2000, "a long error is kept to 2,000 characters")
            try await store.setAuth0SyncStatus(employeeID: "7", status: .failed, error: "tenant refused")
            record = try #require(try await store.employee(id: "7"))
            #expect(record.assignedRole == "rol_1" && record.roleAssignedAt == Moment.text(after: 3))
            #expect(record.auth0Email == "new@example.com" && record.blocked)
            #expect(record.syncStatus == .failed && record.lastError == "tenant refused")
            #expect(record.updatedAt == Moment.text(after: 3))

            // Linking again (a retry) keeps the first creation time and clears the error.
            time.advance(seconds: 1)
            #expect(try await store.linkAuth0Account(employeeID: "7", auth0UserID: "auth0|7", status: .linked, email: "n@example.com"))
            record = try #require(try await store.employee(id: "7"))
            #expect(record.accountCreatedAt == Moment.text(after: 2) && record.syncStatus == .linked && record.lastError == nil)
            try await store.setAuth0SyncStatus(employeeID: "7", status: .verified, error: nil)
            try await store.setBlocked(employeeID: "7", blocked: false)

            // A newer event updates the employee's fields and keeps the account's.
            time.advance(seconds: 1)
            let updated = try await store.upsertEmployee(Self.employee(department: "Sales", email: "n2@example.com"), version: EmployeeVersion(sequence: 2))
            #expect(updated.employee.department == "Sales" && updated.employee.email == "n2@example.com")
            #expect(updated.auth0UserID == "auth0|7" && updated.syncStatus == .verified && updated.auth0Email == "n@example.com")
            #expect(updated.assignedRole == "rol_1" && !updated.blocked && updated.lastError == nil)
            #expect(updated.accountCreatedAt == Moment.text(after: 2) && updated.updatedAt == Moment.text(after: 5))
        }
    }

    @Test(arguments: Backend.all) func anAccountHeldByAnotherEmployeeIsNotLinked(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            let store = tested.store
            _ = try await store.upsertEmployee(Self.employee("1"), version: EmployeeVersion(sequence: 1))
            _ = try await store.upsertEmployee(Self.employee("2"), version: EmployeeVersion(sequence: 2))
            #expect(try await store.linkAuth0Account(employeeID: "1", auth0UserID: "auth0|x", status: .created, email: "n@example.com"))
            try await store.recordAuth0CreateIntent(employeeID: "2", email: "n@example.com")
            #expect(try await !store.linkAuth0Account(employeeID: "2", auth0UserID: "auth0|x", status: .linked, email: "n@example.com"))
            let second = try #require(try await store.employee(id: "2"))
            #expect(second.auth0UserID == nil && second.syncStatus == .pending, "nothing changed")
            #expect(second.createIntentEmail == "n@example.com")
            #expect(try await store.employee(auth0UserID: "auth0|x")?.employee.employeeID == "1")
        }
    }

    @Test(arguments: Backend.all) func concurrentUpsertsOfANewEmployeeAllAnswerAndTheNewestWins(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            let store = tested.store
            let records = try await withThrowingTaskGroup(of: (Int64, EmployeeRecord).self) { group in
                for sequence in Int64(1)...24 {
                    group.addTask {
                        (sequence, try await store.upsertEmployee(Self.employee("r", department: "v\(sequence)"), version: EmployeeVersion(sequence: sequence)))
                    }
                }
                return try await group.reduce(into: [(Int64, EmployeeRecord)]()) { $0.append($1) }
            }
            #expect(records.count == 24)
            for (sequence, record) in records {
                let answered = Int64(record.employee.department.dropFirst()) ?? 0
                #expect(answered >= sequence, "an upsert of version \(sequence) answered an older row (\(record.employee.department))")
            }
            #expect(try await store.employee(id: "r")?.employee.department == "v24")
            #expect(try await tested.count("employees") == 1)
        }
    }

    @Test(arguments: Backend.all) func concurrentLinksOfOneAccountLinkOneEmployee(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            let store = tested.store
            for index in 0..<8 { _ = try await store.upsertEmployee(Self.employee("e\(index)"), version: EmployeeVersion(sequence: Int64(index))) }
            let linked = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                for index in 0..<8 {
                    group.addTask {
                        ("e\(index)", try await store.linkAuth0Account(employeeID: "e\(index)", auth0UserID: "auth0|same", status: .linked, email: "n@example.com"))
                    }
                }
                return try await group.reduce(into: [String: Bool]()) { $0[$1.0] = $1.1 }
            }
            let winners = linked.filter(\.value).map(\.key)
            #expect(winners.count == 1, "linked: \(linked)")
            #expect(try await store.employee(auth0UserID: "auth0|same")?.employee.employeeID == winners.first)
            #expect(try await tested.count("employees", where: "auth0_user_id IS NOT NULL") == 1)
        }
    }

    @Test(arguments: Backend.all) func stepsOfAnUnknownEmployeeCreateNothing(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            let store = tested.store
            try await store.recordAuth0CreateIntent(employeeID: "9", email: "n@example.com")
            try await store.recordRoleAssigned(employeeID: "9", role: "r")
            try await store.setAuth0SyncStatus(employeeID: "9", status: .failed, error: "x")
            try await store.recordAuth0Email(employeeID: "9", email: "n@example.com")
            try await store.setBlocked(employeeID: "9", blocked: true)
            #expect(try await store.employee(id: "9") == nil)
            #expect(try await tested.count("employees") == 0)
        }
    }
}
