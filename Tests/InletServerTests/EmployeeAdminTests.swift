import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InletCore
@testable import InletServer
import InletSQLite
import InletTestSupport
import NIOCore
import Testing

extension TestClientProtocol {
    func adminJSON(_ uri: String, _ body: String, token: String = adminToken) async throws -> TestResponse {
        try await self.execute(
            uri: uri, method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: ByteBuffer(string: body)
        )
    }
}

/// `POST /admin/employees/import` and `POST /admin/employees/{employee_id}/provision`.
@Suite struct EmployeeAdminTests {
    static func employee(_ id: String, email: String? = nil) -> String {
        #"{"employee_id":"\#(id)","name":"Employee \#(id)","email":"\#(email ?? "\(id.lowercased())@example.com")","department":"Production"}"#
    }

    @Test func anImportAppendsOneDedupedEmployeeCreatedEventPerEmployee() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let handler = ScriptedHandler(subscriptions: ["employee.*"])
        try await withInlet(folder: folder, handlers: [handler.factory()], configure: configurePipeline) { client in
            let body = "[\(Self.employee("E1")),\(Self.employee("E2")),\(Self.employee("E3", email: "not-an-address")),\(Self.employee("E4"))]"
            let first = try await client.adminJSON("/admin/employees/import", body)
            #expect(first.status == .accepted, "\(first.text)")
            #expect(try first.json["received"] == 4)
            #expect(try first.json["accepted"] == 3)
            #expect(try first.json["duplicates"] == 0)
            #expect(try first.json["invalid"] == 1)
            #expect(try first.json["errors"] == [["index": 2, "message": "email is not a valid email address"]])

            let again = try await client.adminJSON("/admin/employees/import", body)
            #expect(again.status == .accepted)
            #expect(try again.json["accepted"] == 0)
            #expect(try again.json["duplicates"] == 3)

            let ids = try query(db, "SELECT id FROM events WHERE source = 'admin' AND type = 'employee.created' ORDER BY id").map { try $0.string("id") }
            #expect(ids == ["import:E1", "import:E2", "import:E4"])
            try await eventually("the imported events are delivered") {
                try ["import:E1", "import:E2", "import:E4"].allSatisfy { try deliveryState(db, event: $0, handler: "scripted")?.state == "done" }
            }
            #expect(handler.recorded.count == 3)

            let notArray = try await client.adminJSON("/admin/employees/import", #"{"employee_id":"E1"}"#)
            #expect(notArray.status == .badRequest)
            let unauthorized = try await client.adminJSON("/admin/employees/import", body, token: "wrong")
            #expect(unauthorized.status == .unauthorized)
        }
    }

    @Test func anImportIsCappedInElementsAndInReportedErrors() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder, configure: configurePipeline) { client in
            let tooMany = try await client.adminJSON("/admin/employees/import", "[" + Array(repeating: "{}", count: 10_001).joined(separator: ",") + "]")
            #expect(tooMany.status == .badRequest)
            #expect(try tooMany.json["message"]?.stringValue?.contains("at most 10000") == true, "\(tooMany.text)")
            #expect(try count(folder.databasePath, "events") == 0)

            let invalid = try await client.adminJSON("/admin/employees/import", "[" + Array(repeating: "{}", count: 10_000).joined(separator: ",") + "]")
            #expect(invalid.status == .accepted)
            #expect(try invalid.json["received"] == 10_000)
            #expect(try invalid.json["invalid"] == 10_000)
            guard case .array(let errors)? = try invalid.json["errors"] else {
                Issue.record("no errors array: \(invalid.text)")
                return
            }
            #expect(errors.count == 100)
            #expect(errors.last?["index"] == 99)
        }
    }

    @Test func provisionAppendsAnAdminEventForAKnownEmployee() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let handler = ScriptedHandler(subscriptions: ["employee.provision"])
        try await withInlet(folder: folder, handlers: [handler.factory()], configure: configurePipeline) { client in
            let missing = try await client.adminJSON("/admin/employees/E404/provision", #"{"force": false}"#)
            #expect(missing.status == .notFound)

            let connection = try SQLiteConnection(path: db)
            try connection.execute(
                """
                INSERT INTO employees (employee_id, name, email, department, created_at, updated_at)
                VALUES ('E7', 'Grace Hopper', 'grace@example.com', 'Engineering', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')
                """
            )
            let response = try await client.adminJSON("/admin/employees/E7/provision", #"{"force": true}"#)
            #expect(response.status == .accepted, "\(response.text)")
            let eventID = try #require(try response.json["event_id"]?.stringValue)
            #expect(try response.json["handlers"] == ["scripted"])
            let row = try #require(try query(db, "SELECT source, type, payload FROM events WHERE id = ?", [.text(eventID)]).first)
            #expect(try row.string("source") == "admin")
            #expect(try row.string("type") == "employee.provision")
            let payload = try JSONDocument.parse(try row.string("payload")).root.value
            #expect(payload["force"] == true)
            #expect(payload["data"]?["employee_id"] == "E7")
            #expect(payload["data"]?["email"] == "grace@example.com")
            try await eventually("the provision event is delivered") {
                try deliveryState(db, event: eventID, handler: "scripted")?.state == "done"
            }

            // No body means force false.
            let plain = try await client.admin(.post, "/admin/employees/E7/provision")
            #expect(plain.status == .accepted, "\(plain.text)")
            let plainID = try #require(try plain.json["event_id"]?.stringValue)
            let plainPayload = try #require(try query(db, "SELECT payload FROM events WHERE id = ?", [.text(plainID)]).first).string("payload")
            #expect(try JSONDocument.parse(plainPayload).root.value["force"] == false)
        }
    }
}
