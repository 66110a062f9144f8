internal import Foundation

/// An employee row: the record and its Auth0 account state.
public struct EmployeeRecord: Sendable, Equatable {
    public let employee: Employee
    public let auth0UserID: String?
    public let syncStatus: Auth0SyncStatus
    public let accountCreatedAt: String?
    /// The email last written to Auth0.
    public let auth0Email: String?
    public let assignedRole: String?
    public let roleAssignedAt: String?
    public let blocked: Bool
    public let lastError: String?
    public let updatedAt: String
    /// The email of an account creation that was started and not yet recorded (see
    /// ``EmployeeStore/recordAuth0CreateIntent(employeeID:email:)``), and when.
    public let createIntentEmail: String?
    public let createIntentAt: String?

    package init(employee: Employee, auth0UserID: String?, syncStatus: Auth0SyncStatus, accountCreatedAt: String?, auth0Email: String?, assignedRole: String?, roleAssignedAt: String?, blocked: Bool, lastError: String?, updatedAt: String, createIntentEmail: String?, createIntentAt: String?) {
        self.employee = employee
        self.auth0UserID = auth0UserID
        self.syncStatus = syncStatus
        self.accountCreatedAt = accountCreatedAt
        self.auth0Email = auth0Email
        self.assignedRole = assignedRole
        self.roleAssignedAt = roleAssignedAt
        self.blocked = blocked
        self.lastError = lastError
        self.updatedAt = updatedAt
        self.createIntentEmail = createIntentEmail
        self.createIntentAt = createIntentAt
    }
}
