public import InletCore
internal import Foundation
internal import Logging

/// `welcome-note`: appends one line per new employee to a file; `HandlerTests` runs it
/// through the dispatcher. (docs/writing-a-handler.md follows `Examples/custom-inlet`.)
///
/// ```json
/// "handlers": {"welcome-note": {"path": "/var/lib/inlet/welcome.txt"}}
/// ```
public struct WelcomeNoteHandler: EventHandler {
    public static let name = "welcome-note"
    public let subscriptions: [EventPattern] = ["employee.created"]
    let path: String

    public init(path: String) {
        self.path = path
    }

    public func handle(_ event: Event, context: HandlerContext) async throws {
        // A malformed record will never get better: say so, and it is dead-lettered at once.
        let data = try event.json().root.object("data")
        guard let name = try data?.string("name"), let id = try data?.string("employee_id") else {
            throw HandlerError.permanent("employee.created without data.name or data.employee_id")
        }
        // Delivery is at-least-once: skip the line if an earlier attempt wrote it.
        let line = "\(id)\tWelcome, \(name)!\n"
        let existing = (try? String(contentsOfFile: self.path, encoding: .utf8)) ?? ""
        guard !existing.contains(line) else { return }
        do {
            try (existing + line).write(toFile: self.path, atomically: true, encoding: .utf8)
        } catch {
            // A full disk or a missing folder may pass: try again later.
            throw HandlerError.transient("cannot write \(self.path): \(error)")
        }
        context.logger.info("welcomed", metadata: ["employee_id": "\(id)"])
    }

    /// Registration: the factory a build lists in `InletCommand.main(handlers:)`.
    public static let factory = HandlerFactory(Self.self) { setup in
        guard let path = try setup.settings.string("path") else { throw HandlerUnavailable("handlers.welcome-note.path is not set") }
        return WelcomeNoteHandler(path: path)
    }
}
