public import Auth0Management
internal import Auth0HandlerSupport
public import InletCore
internal import Foundation
internal import Logging

/// `metadata-sync`: keeps the employee's Auth0 account in step with the employee record.
///
/// - `employee.updated` updates the employee row, then patches only the metadata keys
///   Inlet owns (`user_metadata`: employee_id, full_name, department, phone_number;
///   `app_metadata`: employee_id, department, role_code, connecteam_id) — never an empty
///   metadata object — and the email when it differs from the one last written to Auth0;
/// - `employee.deactivated` sets `blocked: true`;
/// - `auth0.user.login` with `emailVerified` for a provisioned employee sets the status
///   `verified` (no API call).
///
/// An employee without an Auth0 account yet is only recorded: provisioning creates the
/// account from the updated row. Every step can be repeated safely.
public struct MetadataSyncHandler: EventHandler {
    public static let name = "metadata-sync"
    public static let defaultSubscriptions = [EventType.employeeUpdated, .employeeDeactivated, .userLogin].map(EventPattern.init)
    public let subscriptions: [EventPattern]
    let client: ManagementClient
    let store: any EmployeeStore

    public init(
        client: ManagementClient, store: any EmployeeStore,
        subscriptions: [EventPattern] = Self.defaultSubscriptions
    ) {
        self.client = client
        self.store = store
        self.subscriptions = subscriptions
    }

    /// Registration for the executable's handler list; inactive until the Auth0 credentials are set.
    public static func factory(clients: ManagementClientProvider) -> HandlerFactory {
        var defaults = HandlerOptions()
        defaults.concurrency = 2
        return clients.handlerFactory(
            Self.self, defaultOptions: defaults, subscriptions: Self.defaultSubscriptions
        ) { management in
            MetadataSyncHandler(client: management.client, store: management.employees, subscriptions: management.subscriptions)
        }
    }

    public func handle(_ event: Event, context: HandlerContext) async throws {
        let document: JSONDocument
        do {
            document = try event.json()
        } catch {
            throw HandlerError.permanent("the event payload is not JSON: \(error.message)")
        }
        do {
            switch event.type {
            case EventType.userLogin.rawValue:
                try await self.login(document.root, context: context)
            case EventType.employeeUpdated.rawValue:
                try await self.updated(document.root, version: EmployeeVersion(event: event, root: document.root), context: context)
            case EventType.employeeDeactivated.rawValue:
                try await self.deactivated(document.root, version: EmployeeVersion(event: event, root: document.root), context: context)
            default:
                return
            }
        } catch let error as ManagementError {
            let failure = HandlerError(error)
            if failure.isPermanent { context.audit("sync_failed", detail: failure.message) }
            throw failure
        }
    }

    private func login(_ root: JSONNode, context: HandlerContext) async throws {
        guard root.isObject, let auth0ID = (try? root.string("auth0Id")) ?? nil,
            ((try? root.bool("emailVerified")) ?? nil) == true,
            let record = try await self.store.employee(auth0UserID: auth0ID),
            record.syncStatus == .created || record.syncStatus == .linked
        else { return }
        try await self.store.setAuth0SyncStatus(employeeID: record.employee.employeeID, status: .verified, error: nil)
        context.audit("account_verified", detail: "employee_id=\(record.employee.employeeID) auth0_user_id=\(auth0ID)")
    }

    private func updated(_ root: JSONNode, version: EmployeeVersion, context: HandlerContext) async throws {
        // The row as it is after the upsert: an older event (redelivered, replayed, late)
        // gets the newer values back and patches those, never its own.
        let record = try await self.store.upsertEmployee(try EmployeeEvent.employee(in: root).employee, version: version)
        let employee = record.employee
        guard let userID = record.auth0UserID else {
            context.audit("sync_skipped", detail: "employee_id=\(employee.employeeID) has no Auth0 account yet")
            return
        }
        let metadata = OwnedMetadata(employee)
        var body: [(String, JSONValue)] = [("name", .string(employee.name)), ("user_metadata", .object(metadata.user)), ("app_metadata", .object(metadata.app))]
        let email = employee.email.lowercased()
        let emailChanged = record.auth0Email?.lowercased() != email
        if emailChanged { body.append(("email", .string(email))) }
        do {
            _ = try await self.client.patchUser(id: userID, .object(body))
        } catch let error as ManagementError where error.isNotFound {
            throw HandlerError.permanent("the Auth0 user \(userID) of employee \(employee.employeeID) no longer exists")
        }
        if emailChanged { try await self.store.recordAuth0Email(employeeID: employee.employeeID, email: email) }
        context.audit("metadata_synced", detail: "employee_id=\(employee.employeeID) auth0_user_id=\(userID)\(emailChanged ? " email changed" : "")")
        context.logger.info("employee metadata synced", metadata: ["employee_id": "\(employee.employeeID)", "email_changed": "\(emailChanged)"])
    }

    private func deactivated(_ root: JSONNode, version: EmployeeVersion, context: HandlerContext) async throws {
        let data = try EmployeeEvent.data(in: root)
        let id: String
        do {
            id = try Employee.id(in: data).id
        } catch {
            throw HandlerError.permanent("invalid employee record: \(error.message)")
        }
        guard let record = try await self.store.employee(id: id), let userID = record.auth0UserID else {
            if let employee = try? Employee(json: data) { _ = try await self.store.upsertEmployee(employee, version: version) }
            try await self.store.setBlocked(employeeID: id, blocked: true)
            context.audit("sync_skipped", detail: "employee_id=\(id) has no Auth0 account")
            return
        }
        do {
            _ = try await self.client.patchUser(id: userID, ["blocked": true])
        } catch let error as ManagementError where error.isNotFound {
            throw HandlerError.permanent("the Auth0 user \(userID) of employee \(id) no longer exists")
        }
        try await self.store.setBlocked(employeeID: id, blocked: true)
        context.audit("account_blocked", detail: "employee_id=\(id) auth0_user_id=\(userID)")
    }
}
