import Foundation
import InletCore
import Logging
import StarterLogHandler
import Testing

/// The handler on its own: what `handle` does with good, repeated and broken events.
/// (`CustomInletTests` runs it through the built executable and Inlet's dispatcher.)
@Suite(.timeLimit(.minutes(1)))
struct StarterLogHandlerTests {
    let context = HandlerContext(logger: Logger(label: "test"))

    func event(id: String, data: String) -> Event {
        Event(
            seq: 1, source: "productivity", id: id, type: "employee.created", receivedAt: "2026-03-02T08:15:43Z",
            payload: #"{"type":"employee.created","data":\#(data)}"#
        )
    }

    @Test func listsEachStarterOnceHoweverOftenTheDeliveryRuns() async throws {
        try await withTemporaryFolder { folder in
            let path = folder.appendingPathComponent("starters.tsv").path
            let handler = StarterLogHandler(path: path)
            let grace = self.event(id: "e1", data: #"{"employee_id":"EMP-7","name":"Grace\tHopper","email":"g@example.com","department":"Navy"}"#)
            try await handler.handle(grace, context: self.context)
            try await handler.handle(grace, context: self.context)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "EMP-7\tGrace Hopper\tNavy\t2026-03-02T08:15:43Z\n")
        }
    }

    @Test func aRecordThatIsNoEmployeeIsPermanent() async throws {
        let handler = StarterLogHandler(path: "/nonexistent/starters.tsv")
        let error = await #expect(throws: HandlerError.self) {
            try await handler.handle(self.event(id: "e2", data: #"{"email":"x@example.com"}"#), context: self.context)
        }
        #expect(error?.isPermanent == true)
    }

    @Test func aFileThatCannotBeWrittenIsTransient() async throws {
        let handler = StarterLogHandler(path: "/nonexistent/starters.tsv")
        let event = self.event(id: "e3", data: #"{"employee_id":"EMP-8","name":"Ada","email":"a@example.com","department":"R&D"}"#)
        let error = await #expect(throws: HandlerError.self) { try await handler.handle(event, context: self.context) }
        #expect(error?.isPermanent == false)
    }

    /// The factory as `inlet serve` runs it: a path from the file or the environment, and
    /// without one, unavailable with its deliveries waiting.
    @Test func theFactoryTakesItsPathAndWaitsWithoutOne() throws {
        let configured = try StarterLogHandler.factory.build(
            HandlerSetup(settings: HandlerSettings(name: "starter-log", values: ["path": "/tmp/starters.tsv"]))
        )
        #expect(configured.name == "starter-log")
        #expect(configured.subscriptions == ["employee.created"])
        let fromEnvironment = try StarterLogHandler.factory.build(
            HandlerSetup(settings: HandlerSettings(name: "starter-log", secrets: SecretResolver(environment: ["STARTER_LOG_PATH": "/tmp/s.tsv"])))
        )
        #expect(fromEnvironment.name == "starter-log")
        let unavailable = #expect(throws: HandlerUnavailable.self) {
            try StarterLogHandler.factory.build(HandlerSetup(settings: HandlerSettings(name: "starter-log")))
        }
        #expect(unavailable?.waitingOn == ["employee.created"])
    }
}

/// Runs `body` with a new empty folder, removed afterwards.
func withTemporaryFolder<T>(_ body: (URL) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("custom-inlet-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try await body(folder)
}
