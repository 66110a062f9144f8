
import Auth0Management
import InletHTTPClient
import Foundation
import InletCore
import InletSQLite
import Logging
import MetadataSyncHandler
import ProvisioningHandler
import ServiceLifecycle
import Testing

/// A temporary SQLite store, removed afterwards.
func withStore<T>(_ body: (SQLiteStore, String) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-auth0-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let path = folder + "/inlet.sqlite"
    let store = try await SQLiteStore.open(path: path, options: .init(synchronous: .normal))
    defer { try? FileManager.default.removeItem(atPath: folder) }
    do {
        let result = try await body(store, path)
        await store.close()
        return result
    } catch {
        await store.close()
        throw error
    }
}

let quietLogger = Logger(label: "auth0-test", factory: { _ in SwiftLogNoOpLogHandler() })

func handlerContext(attempt: Int = 1, logger: Logger = quietLogger) -> HandlerContext {
    HandlerContext(logger: logger, attempt: attempt, deliveryID: 1, clock: .system)
}

func employeeData(
    _ id: String = "EMP-1", name: String = "Ada Lovelace", email: String = "Ada.Lovelace@Example.com",
    department: String = "Production", phone: String? = "+1 555 010 4821", connecteam: String? = "ct_1", role: String? = nil
) -> JSONValue {
    var members: [(String, JSONValue)] = [
        ("employee_id", .string(id)), ("name", .string(name)), ("email", .string(email)), ("department", .string(department)),
    ]
    if let phone { members.append(("phone_number", .string(phone))) }
    if let connecteam { members.append(("connecteam_id", .string(connecteam))) }
    if let role { members.append(("role_code", .string(role))) }
    return .object(members)
}

/// Appends an event (no deliveries planned) and returns it as a handler receives it.
func storedEvent(_ store: SQLiteStore, type: String, data: JSONValue, id: String = "evt_\(UUID().uuidString)", extra: [(String, JSONValue)] = []) async throws -> Event {
    let payload = JSONValue.object([("id", .string(id)), ("type", .string(type)), ("data", data)] + extra).serializedString
    let result = try await store.appendEvent(source: .productivity, id: id, type: EventType(type), payload: payload, handlers: [])
    return Event(seq: result.seq, source: "productivity", id: id, type: type, receivedAt: "", payload: payload)
}

/// The employee's row, read by column name; throws when there is none.
func employeeRow(_ path: String, _ id: String) throws -> SQLiteRow {
    let connection = try SQLiteConnection(path: path, readOnly: true)
    let names = ["auth0_user_id", "auth0_sync_status", "auth0_account_created_at", "role_assigned_at", "assigned_role", "last_error", "blocked", "email", "auth0_email", "department"]
    return try #require(try connection.row("SELECT \(names.joined(separator: ", ")) FROM employees WHERE employee_id = ?", [.text(id)]))
}

func auditRows(_ path: String, handler: String) throws -> [(outcome: String, detail: String)] {
    let connection = try SQLiteConnection(path: path, readOnly: true)
    return try connection.query("SELECT outcome, detail FROM audit_log WHERE handler = ? ORDER BY id", [.text(handler)])
        .map { (try $0.string("outcome"), try $0.optionalString("detail") ?? "") }
}

/// The count a `SELECT count(*) AS count ...` returns.
func sqlCount(_ path: String, _ sql: String) throws -> Int {
    try SQLiteConnection(path: path, readOnly: true).requiredRow(sql).int("count")
}

/// Runs the dispatcher over `handlers` until `body` returns, then shuts it down gracefully.
func withDispatcher<T: Sendable>(
    store: SQLiteStore, handlers: [(any EventHandler, HandlerOptions)], _ body: @escaping @Sendable (Dispatcher, HandlerRegistry) async throws -> T
) async throws -> T {
    var registry = HandlerRegistry()
    for (handler, options) in handlers { try registry.add(handler, options: options) }
    var options = Dispatcher.Options()
    options.pollInterval = .milliseconds(100)
    options.jitter = { $0 }
    let dispatcher = Dispatcher(store: store, registry: registry, logger: quietLogger, options: options)
    let group = ServiceGroup(configuration: .init(services: [dispatcher], logger: quietLogger))
    let frozen = registry
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        defer { tasks.cancelAll() }
        do {
            let result = try await body(dispatcher, frozen)
            await group.triggerGracefulShutdown()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
    }
}

/// `events` with a delivery planned for `handler` each.
func planned(_ events: [NewEvent], for handler: String) -> [NewEvent] {
    events.map { NewEvent(source: $0.source, id: $0.id, type: $0.type, payload: $0.payload, handlers: [handler]) }
}
