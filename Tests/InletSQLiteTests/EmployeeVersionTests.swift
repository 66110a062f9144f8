import Foundation
import InletCore
import InletSQLite
import Testing

@Suite struct EmployeeVersionTests {
    @Test func aRowFromBeforeVersionsTakesTheNextEventThenOnlyNewerOnes() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-core-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/inlet.sqlite"
        // A database at schema 4 with an employee row, as a release before versions left it.
        do {
            let old = try SQLiteConnection(path: path)
            for migration in Migrations.all where migration.version <= 4 { try old.executeScript(migration.sql) }
            try old.executeScript("PRAGMA user_version = 4")
            try old.execute(
                "INSERT INTO employees (employee_id, name, email, department, created_at, updated_at) VALUES ('7', 'Old', 'old@example.com', 'Old', 'x', 'x')"
            )
        }
        let store = try await SQLiteStore.open(path: path, options: .init(synchronous: .normal))
        func upsert(_ department: String, occurredAt: String? = nil, sequence: Int64) async throws -> String {
            let employee = Employee(employeeID: "7", name: "N", email: "n@example.com", department: department, employeeIDIsNumber: true)
            let version = EmployeeVersion(occurredAt: occurredAt.flatMap(Timestamp.init(rfc3339:)), sequence: sequence)
            return try await store.upsertEmployee(employee, version: version).employee.department
        }
        #expect(try await upsert("A", sequence: 5) == "A", "an unversioned row takes any event")
        #expect(try await upsert("stale", sequence: 4) == "A", "an earlier arrival, neither with occurred_at")
        #expect(try await upsert("B", occurredAt: "2026-11-20T10:00:00Z", sequence: 6) == "B")
        #expect(try await upsert("earlier", occurredAt: "2026-11-20T03:59:59.999-06:00", sequence: 9) == "B", "arrived later, occurred earlier")
        #expect(try await upsert("C", occurredAt: "2026-11-20T10:00:00Z", sequence: 10) == "C", "same instant, later arrival")
        #expect(try await upsert("D", sequence: 11) == "D", "no occurred_at: arrival order")
        #expect(try await store.employee(id: "7")?.employee.employeeIDValue == .int(7))
        await store.close()
    }
}
