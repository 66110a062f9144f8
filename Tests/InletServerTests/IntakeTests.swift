import Foundation
import HTTPTypes
import HummingbirdTesting
import InletCore
@testable import InletServer
import InletSQLite
import InletTestSupport
import Testing

/// What the one way in for events promises: the door checks what the handlers will check,
/// and the handler that records outcomes is chosen by what it declares, not by its name.
@Suite(.timeLimit(.minutes(2))) struct IntakeTests {
    /// An employee record the handlers would refuse is refused at the door (400), so an
    /// event answered 202 is never dead-lettered later for its shape.
    @Test func theDoorRefusesAnEmployeeRecordTheHandlersWouldRefuse() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder, configure: configurePipeline) { client in
            let refused: [(String, String)] = [
                (#"{"type":"employee.created","data":{"employee_id":"E1","name":"Ada","email":"@","department":"Ops"}}"#, "email"),
                (#"{"type":"employee.created","data":{"employee_id":"E1","email":"ada@example.com","department":"Ops"}}"#, "name"),
                (#"{"type":"employee.updated","data":{"employee_id":"E1","name":"Ada","email":"ada@example.com"}}"#, "department"),
                (#"{"type":"employee.created","data":{"employee_id":" ","name":"Ada","email":"ada@example.com","department":"Ops"}}"#, "employee_id"),
                (#"{"type":"employee.deactivated","data":{"employee_id":true}}"#, "employee_id"),
            ]
            for (body, field) in refused {
                let response = try await client.postSigned(body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.text.contains(field), "\(response.text)")
            }
            #expect(try count(db, "events") == 0)
            // A deactivation needs only the id, by the same rule (a number or a string).
            let deactivated = try await client.postSigned(#"{"type":"employee.deactivated","data":{"employee_id":42}}"#)
            #expect(deactivated.status == .accepted, "\(deactivated.text)")
            #expect(try count(db, "events") == 1)
        }
    }

    /// A handler that declares `recordsOutcomes` has every delivery outcome written to the
    /// audit log, whatever its name; without one, none is.
    @Test func outcomesAreAuditedWhileAHandlerThatRecordsThemRuns() async throws {
        for recording in [true, false] {
            let folder = try TemporaryFolder()
            let db = folder.databasePath
            let handler = ScriptedHandler(subscriptions: ["employee.*"])
            let factories = [handler.factory()] + (recording ? [HandlerFactory(Ledger.self) { _ in Ledger() }] : [])
            try await withInlet(folder: folder, handlers: factories, configure: configurePipeline) { client in
                let response = try await client.postSigned(employeeEvent(), id: "msg_ledger")
                #expect(response.status == .accepted)
                try await eventually("delivered") { try deliveryState(db, event: "msg_ledger", handler: "scripted")?.state == "done" }
                let delivered = { try count(db, "audit_log WHERE handler = 'scripted' AND outcome = 'delivered'") }
                if recording {
                    try await eventually("the outcome audited") { try delivered() == 1 }
                } else {
                    #expect(try delivered() == 0)
                }
            }
        }
    }

    /// Records nothing itself; asks for every outcome to be audited.
    struct Ledger: EventHandler {
        static let name = "ledger"
        let subscriptions: [EventPattern] = []
        var recordsOutcomes: Bool { true }
        func handle(_ event: Event, context: HandlerContext) async throws {}
    }
}
