import ExampleHandler
import Foundation
import InletCore
import InletSQLite
import Logging
import Testing

/// A handler of the guide's kind (`welcome-note`), registered through its factory and run by
/// the real dispatcher against a real store.
@Suite struct ExampleHandlerTests {
    @Test func theGuidesHandlerRunsThroughThePipelineOncePerEmployee() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-example-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let notes = folder.appendingPathComponent("welcome.txt").path
        let store = try await SQLiteStore.open(path: folder.appendingPathComponent("inlet.sqlite").path)

        // What `inlet serve` does with the factory and the config file's settings.
        let registry = try HandlerRegistry(
            factories: [WelcomeNoteHandler.factory], settings: ["welcome-note": ["path": .string(notes)]], environment: [:], stores: store
        )
        #expect(registry.subscribers(of: "employee.created") == ["welcome-note"])
        #expect(registry.subscribers(of: "employee.updated").isEmpty)
        let unconfigured = try HandlerRegistry(factories: [WelcomeNoteHandler.factory], settings: [:], environment: [:], stores: store)
        #expect(unconfigured.inactive.first?.reason == "handlers.welcome-note.path is not set")

        var options = Dispatcher.Options()
        options.pollInterval = .milliseconds(50)
        let dispatcher = Dispatcher(store: store, registry: registry, logger: Logger(label: "test"), options: options)
        let running = Task { try await dispatcher.run() }
        let created = #"{"type":"employee.created","data":{"employee_id":"EMP-7","name":"Grace Hopper","email":"g@example.com"}}"#
        let broken = #"{"type":"employee.created","data":{"email":"x@example.com"}}"#
        for (id, payload) in [("e1", created), ("e1", created), ("e2", broken)] {
            _ = try await store.appendEvent(source: "test", id: id, type: "employee.created", payload: payload, handlers: registry.subscribers(of: "employee.created"))
        }
        dispatcher.notify()
        let deadline = ContinuousClock.now + .seconds(20)
        var states: [String] = []
        while ContinuousClock.now < deadline {
            states = try await store.listEvents(state: nil, type: nil, limit: 10).flatMap { $0.deliveries.map(\.state.rawValue) }.sorted()
            if states == ["dead", "done"] { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        running.cancel()
        #expect(states == ["dead", "done"])
        #expect(try String(contentsOfFile: notes, encoding: .utf8) == "EMP-7\tWelcome, Grace Hopper!\n")
        await store.close()
    }
}
