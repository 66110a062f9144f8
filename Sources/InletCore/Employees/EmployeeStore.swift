internal import Foundation

/// Employees and their Auth0 accounts: what provisioning and metadata-sync record, so
/// that every step can be repeated safely under re-delivery.
///
/// ```swift
/// guard let employees = store as? any EmployeeStore else { throw HandlerUnavailable("...") }
/// let record = try await employees.upsertEmployee(employee, version: EmployeeVersion(event: event, root: root))
/// ```
public protocol EmployeeStore: Sendable {
    /// Inserts the employee (status `pending`) or updates its record when `version` is not
    /// older than the row's; the Auth0 columns are kept. Returns the row as it now is: an
    /// older event gets the newer values back.
    func upsertEmployee(_ employee: Employee, version: EmployeeVersion) async throws -> EmployeeRecord
    func employee(id: String) async throws -> EmployeeRecord?
    /// Employees in id order after `after` (a page's last id), optionally only those with
    /// sync status `status`; at most `limit`.
    func listEmployees(status: Auth0SyncStatus?, after: String?, limit: Int) async throws -> [EmployeeRecord]
    func employee(auth0UserID: String) async throws -> EmployeeRecord?
    /// Records that an Auth0 account with `email` is about to be created, before the call:
    /// an attempt that dies before ``linkAuth0Account(employeeID:auth0UserID:status:email:)``
    /// leaves it, so the retry looks that account up instead of creating a second one.
    func recordAuth0CreateIntent(employeeID: String, email: String) async throws
    /// Records the employee's Auth0 account and clears the creation intent. Returns false,
    /// changing nothing, when another employee already holds `auth0UserID`. Keeps the first
    /// account-creation time.
    func linkAuth0Account(employeeID: String, auth0UserID: String, status: Auth0SyncStatus, email: String) async throws -> Bool
    func recordRoleAssigned(employeeID: String, role: String) async throws
    /// Sets the status; `error` is kept as `last_error` (nil clears it).
    func setAuth0SyncStatus(employeeID: String, status: Auth0SyncStatus, error: String?) async throws
    func recordAuth0Email(employeeID: String, email: String) async throws
    func setBlocked(employeeID: String, blocked: Bool) async throws
}
