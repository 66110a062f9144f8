public import InletCore
internal import Foundation
internal import Logging

/// `starter-log`: one tab-separated line per new employee in a file (employee id, name,
/// department, when Inlet received the event), for the people who prepare desks and badges.
///
/// The handler of `docs/writing-a-handler.md`: a team's own handler in its own package,
/// built into its own `inlet` (`Sources/custom-inlet/main.swift`).
///
/// ```json
/// "handlers": {"starter-log": {"path": "/var/lib/inlet/starters.tsv"}}
/// ```
public struct StarterLogHandler: EventHandler {
    /// The config key (`handlers.starter-log`), the delivery rows' handler and the metric label.
    public static let name = "starter-log"
    public let subscriptions: [EventPattern]
    let path: String

    public init(path: String, subscriptions: [EventPattern] = ["employee.created"]) {
        self.path = path
        self.subscriptions = subscriptions
    }

    public func handle(_ event: Event, context: HandlerContext) async throws {
        // A record that is not an employee will never become one: permanent, so the
        // delivery is dead-lettered at once instead of retried.
        let employee: Employee
        do {
            guard let data = try event.json().root.object("data") else { throw HandlerError.permanent("\(event.type) has no data") }
            employee = try Employee(json: data)
        } catch let error as HandlerError {
            throw error
        } catch {
            throw HandlerError.permanent("\(event.type) holds no valid employee record: \(error)")
        }

        // Delivery is at least once (a crash after the write runs it again): a starter
        // already on the list is not added twice.
        let key = Self.field(employee.employeeID) + "\t"
        let existing = (try? String(contentsOfFile: self.path, encoding: .utf8)) ?? ""
        if existing.split(separator: "\n").contains(where: { $0.hasPrefix(key) }) {
            context.logger.debug("already listed", metadata: ["employee_id": "\(employee.employeeID)"])
            return
        }
        let line = [employee.employeeID, employee.name, employee.department, event.receivedAt].map(Self.field).joined(separator: "\t") + "\n"
        do {
            try Self.append(line, to: self.path)
        } catch {
            // A missing folder or a full disk may be fixed: retried with backoff.
            throw HandlerError.transient("cannot append to \(self.path): \(error)")
        }
        // An audit row, stored in the transaction that records this attempt's outcome.
        context.audit("starter listed", detail: employee.employeeID)
        context.logger.info("starter listed", metadata: ["employee_id": "\(employee.employeeID)"])
    }

    /// One field of a line: tabs and line breaks become spaces.
    static func field(_ text: String) -> String {
        String(text.map { $0 == "\t" || $0.isNewline ? " " : $0 })
    }

    static func append(_ line: String, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteUnknown)
            }
        }
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? file.close() }
        try file.seekToEnd()
        try file.write(contentsOf: Data(line.utf8))
        try file.synchronize()
    }
}

extension StarterLogHandler {
    /// Its settings, listed by `custom-inlet settings` and `custom-inlet serve --help`.
    public static let settings = SettingsSection("New-starter log (the `starter-log` handler)", [
        Setting(
            "STARTER_LOG_PATH", key: "handlers.starter-log.path", default: "unset",
            "file that gets one line per new employee; while unset, `employee.created` deliveries wait for it"
        )
    ])

    /// Registration: the factory a build lists in `InletCommand.main(handlers:)`.
    ///
    /// Until a path is set the handler does not run, but its deliveries are still planned
    /// and wait (`waitingOn`): the starters who arrive meanwhile are listed once it is set.
    public static let factory = HandlerFactory(Self.self, settings: [settings]) { setup in
        let subscriptions = try setup.settings.subscriptions(default: ["employee.created"])
        guard let path = try setup.settings.string("path") ?? setup.secrets.value("STARTER_LOG_PATH"), !path.isEmpty else {
            throw HandlerUnavailable("handlers.starter-log.path (or STARTER_LOG_PATH) is not set", waitingOn: subscriptions)
        }
        return StarterLogHandler(path: path, subscriptions: subscriptions)
    }
}
